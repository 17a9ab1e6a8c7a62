package io.backupkit.testkit;

import java.io.InputStream;
import java.util.SplittableRandom;

/** Incompressible deterministic bytes: what a stream stores is what it reads, so byte counts are easy to reason about. */
public final class RandomData {
    private RandomData() {
    }

    /** {@code length} pseudo-random bytes from {@code seed}, generated as they are read. */
    public static InputStream stream(long seed, long length) {
        return new InputStream() {
            private final SplittableRandom random = new SplittableRandom(seed);
            private long left = length;
            private long word;
            private int wordBytes;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    return -1;
                }
                int n = (int) Math.min(len, left);
                for (int i = 0; i < n; i++) {
                    if (wordBytes == 0) {
                        word = random.nextLong();
                        wordBytes = 8;
                    }
                    b[off + i] = (byte) word;
                    word >>>= 8;
                    wordBytes--;
                }
                left -= n;
                return n;
            }
        };
    }
}
