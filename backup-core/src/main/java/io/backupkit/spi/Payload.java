package io.backupkit.spi;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * Bytes to store. A payload knows its length and can be opened more than once, so a storage may
 * retry or split it into parts. Payloads backed by memory expose their array to avoid copies.
 */
public interface Payload {

    long length();

    /** Opens the content from its start; each call returns a fresh stream. */
    InputStream open() throws IOException;

    /**
     * A payload over {@code bytes[offset, offset + length)}; the array must not change afterwards, unless
     * the storage it is given to is done with it when the put returns ({@link Storage#readsPayloadOnlyDuringPut()}).
     */
    static Payload of(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        return new ArrayPayload(bytes, offset, length);
    }

    static Payload of(byte[] bytes) {
        return of(bytes, 0, bytes.length);
    }

    /** In-memory payload; storages may read {@link #array()} directly. */
    record ArrayPayload(byte[] array, int offset, int arrayLength) implements Payload {
        @Override
        public long length() {
            return arrayLength;
        }

        @Override
        public InputStream open() {
            return new ByteArrayInputStream(array, offset, arrayLength);
        }
    }
}
