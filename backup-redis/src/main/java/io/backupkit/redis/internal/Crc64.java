package io.backupkit.redis.internal;

/**
 * The CRC-64 Redis uses for RDB files and DUMP payloads (Jones polynomial, reflected, initial value 0,
 * no final xor): {@code crc64("123456789") == 0xe9c6d914c4b8d9caL}.
 */
public final class Crc64 {
    private static final long[] TABLE = new long[256];

    static {
        long poly = 0x95ac9329ac4bc9b5L; // 0xad93d23594c935a9 bit-reversed
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ poly : crc >>> 1;
            }
            TABLE[i] = crc;
        }
    }

    private long crc;

    public void update(byte[] b, int off, int len) {
        long c = crc;
        for (int i = off; i < off + len; i++) {
            c = TABLE[(int) ((c ^ b[i]) & 0xff)] ^ (c >>> 8);
        }
        crc = c;
    }

    public void update(int b) {
        crc = TABLE[(int) ((crc ^ b) & 0xff)] ^ (crc >>> 8);
    }

    public long value() {
        return crc;
    }

    public static long of(byte[] b, int off, int len) {
        Crc64 c = new Crc64();
        c.update(b, off, len);
        return c.value();
    }
}
