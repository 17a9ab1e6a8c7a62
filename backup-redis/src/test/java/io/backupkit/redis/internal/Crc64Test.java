package io.backupkit.redis.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The eight-bytes-at-a-time CRC-64 equals the textbook one-byte-at-a-time loop, for every length, offset and split. */
class Crc64Test {
    private static final long POLY = 0x95ac9329ac4bc9b5L;

    private static long bytewise(byte[] b, int off, int len) {
        long c = 0;
        for (int i = off; i < off + len; i++) {
            c ^= b[i] & 0xff;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ POLY : c >>> 1;
            }
        }
        return c;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void slicedEqualsBytewise(long seed) {
        Random r = new Random(seed);
        for (int round = 0; round < 200; round++) {
            byte[] b = new byte[r.nextInt(300)];
            r.nextBytes(b);
            int off = b.length == 0 ? 0 : r.nextInt(b.length);
            int len = r.nextInt(b.length - off + 1);
            long expected = bytewise(b, off, len);
            assertEquals(expected, Crc64.of(b, off, len), "length " + len + " at " + off);
            // the same bytes fed in two pieces and byte by byte
            int cut = len == 0 ? 0 : r.nextInt(len + 1);
            Crc64 c = new Crc64();
            c.update(b, off, cut);
            c.update(b, off + cut, len - cut);
            assertEquals(expected, c.value());
            Crc64 one = new Crc64();
            for (int i = off; i < off + len; i++) {
                one.update(b[i]);
            }
            assertEquals(expected, one.value());
        }
    }
}
