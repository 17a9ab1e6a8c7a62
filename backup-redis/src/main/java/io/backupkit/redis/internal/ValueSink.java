package io.backupkit.redis.internal;

/** Receives the logical content of one value, whatever its encoding in the RDB file or on the server. */
public interface ValueSink {
    ValueSink NONE = new ValueSink() { };

    default void string(byte[] value) {
    }

    default void listElement(byte[] element) {
    }

    default void setMember(byte[] member) {
    }

    default void hashField(byte[] field, byte[] value) {
    }

    default void zsetMember(byte[] member, double score) {
    }

    /** One live (not deleted) stream entry; {@code fieldsAndValues} alternate field, value. */
    default void streamEntry(long ms, long seq, byte[][] fieldsAndValues) {
    }

    default void streamMeta(long length, long lastMs, long lastSeq) {
    }

    default void streamGroup(byte[] name, long lastMs, long lastSeq) {
    }
}
