package io.backupkit.redis.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The content digest of one key: SHA-256 over the key name, its type and its logical value, the same
 * whether the value comes from an RDB file (any encoding) or from a server's replies. Members of sets,
 * hashes and sorted sets are combined by adding their own hashes, so their order does not matter; list
 * and stream elements are hashed in order. TTLs are not part of it.
 */
public final class KeyDigest implements ValueSink {
    /** Logical types, as the TYPE command names them. */
    public enum Kind { string, list, set, zset, hash, stream, module }

    private final MessageDigest ordered;
    private final Sum unordered = new Sum();
    private final Sum groups = new Sum();
    private final Kind kind;
    private final byte[] key;
    private long streamLength;
    private long lastMs;
    private long lastSeq;

    public KeyDigest(byte[] key, Kind kind) {
        this.ordered = sha256();
        this.key = key;
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public void string(byte[] value) {
        field(ordered, value);
    }

    @Override
    public void listElement(byte[] element) {
        field(ordered, element);
    }

    @Override
    public void setMember(byte[] member) {
        MessageDigest m = sha256();
        field(m, member);
        unordered.add(m.digest());
    }

    @Override
    public void hashField(byte[] field, byte[] value) {
        MessageDigest m = sha256();
        field(m, field);
        field(m, value);
        unordered.add(m.digest());
    }

    @Override
    public void zsetMember(byte[] member, double score) {
        MessageDigest m = sha256();
        field(m, member);
        m.update(ByteBuffer.allocate(8).putLong(Double.doubleToLongBits(score == 0.0 ? 0.0 : score)).array());
        unordered.add(m.digest());
    }

    @Override
    public void streamEntry(long ms, long seq, byte[][] fieldsAndValues) {
        ordered.update(ByteBuffer.allocate(20).putLong(ms).putLong(seq).putInt(fieldsAndValues.length).array());
        for (byte[] f : fieldsAndValues) {
            field(ordered, f);
        }
    }

    @Override
    public void streamMeta(long length, long lastMs, long lastSeq) {
        this.streamLength = length;
        this.lastMs = lastMs;
        this.lastSeq = lastSeq;
    }

    @Override
    public void streamGroup(byte[] name, long groupLastMs, long groupLastSeq) {
        MessageDigest m = sha256();
        field(m, name);
        m.update(ByteBuffer.allocate(16).putLong(groupLastMs).putLong(groupLastSeq).array());
        groups.add(m.digest());
    }

    /** The key's digest (32 bytes). */
    public byte[] digest() {
        MessageDigest m = sha256();
        field(m, key);
        field(m, kind.name().getBytes(StandardCharsets.US_ASCII));
        m.update(ordered.digest());
        m.update(unordered.bytes());
        if (kind == Kind.stream) {
            m.update(ByteBuffer.allocate(24).putLong(streamLength).putLong(lastMs).putLong(lastSeq).array());
            m.update(groups.bytes());
        }
        return m.digest();
    }

    private static void field(MessageDigest m, byte[] b) {
        m.update(ByteBuffer.allocate(4).putInt(b.length).array());
        m.update(b);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A 256-bit sum modulo 2^256: an order-independent combination of hashes. */
    public static final class Sum {
        private final byte[] acc = new byte[32];

        public void add(byte[] h) {
            int carry = 0;
            for (int i = 31; i >= 0; i--) {
                int s = (acc[i] & 0xff) + (h[i] & 0xff) + carry;
                acc[i] = (byte) s;
                carry = s >>> 8;
            }
        }

        public byte[] bytes() {
            return acc.clone();
        }

        public String hex() {
            return java.util.HexFormat.of().formatHex(acc);
        }
    }
}
