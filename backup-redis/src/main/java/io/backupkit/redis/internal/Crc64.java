package io.backupkit.redis.internal;

/**
 * The CRC-64 Redis uses for RDB files and DUMP payloads (Jones polynomial, reflected, initial value 0,
 * no final xor): {@code crc64("123456789") == 0xe9c6d914c4b8d9caL}.
 */
public final class Crc64 {
    private static final long[] TABLE = new long[256];
    /** Slicing-by-8: SLICES[k][b] is TABLE applied k more times to byte b; eight bytes per step instead of one. */
    private static final long[][] SLICES = new long[8][];

    static {
        long poly = 0x95ac9329ac4bc9b5L; // 0xad93d23594c935a9 bit-reversed
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ poly : crc >>> 1;
            }
            TABLE[i] = crc;
        }
        SLICES[0] = TABLE;
        for (int k = 1; k < 8; k++) {
            SLICES[k] = new long[256];
            for (int i = 0; i < 256; i++) {
                long prev = SLICES[k - 1][i];
                SLICES[k][i] = (prev >>> 8) ^ TABLE[(int) (prev & 0xff)];
            }
        }
    }

    private long crc;

    public void update(byte[] b, int off, int len) {
        long c = crc;
        int i = off;
        int end = off + len;
        long[] t0 = SLICES[0], t1 = SLICES[1], t2 = SLICES[2], t3 = SLICES[3];
        long[] t4 = SLICES[4], t5 = SLICES[5], t6 = SLICES[6], t7 = SLICES[7];
        for (; i + 8 <= end; i += 8) {
            c ^= (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24
                    | (b[i + 4] & 0xffL) << 32 | (b[i + 5] & 0xffL) << 40 | (b[i + 6] & 0xffL) << 48 | (b[i + 7] & 0xffL) << 56;
            c = t7[(int) (c & 0xff)] ^ t6[(int) ((c >>> 8) & 0xff)] ^ t5[(int) ((c >>> 16) & 0xff)] ^ t4[(int) ((c >>> 24) & 0xff)]
                    ^ t3[(int) ((c >>> 32) & 0xff)] ^ t2[(int) ((c >>> 40) & 0xff)] ^ t1[(int) ((c >>> 48) & 0xff)] ^ t0[(int) (c >>> 56)];
        }
        for (; i < end; i++) {
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
