package io.backupkit.redis.internal;

/** The RDB data is not valid or uses something this reader does not support; the message says what. */
public final class RdbFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RdbFormatException(String message) {
        super(message);
    }
}
