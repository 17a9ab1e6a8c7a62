package io.backupkit.internal.chunker;

import java.util.SplittableRandom;

/**
 * FastCDC content-defined chunking (Xia et al., USENIX ATC 2016) with normalized chunking (level 1 by
 * default; level 2 cuts sizes closer to the average but re-synchronizes later after an edit, which
 * cost about 70 % more new bytes per edit site on dump-like data):
 * a gear rolling hash, a stricter mask before the average size and a looser one after it, so chunk
 * sizes cluster around the average. Boundaries depend only on nearby content, so an insert shifts
 * data without changing the chunks after it. The gear table comes from a per-repository seed, so
 * chunk boundaries do not reveal content across repositories.
 *
 * <p>Immutable and thread-safe; the per-stream state lives in a {@link Scanner}.
 */
public final class FastCdcChunker implements Chunker {
    private final int min;
    private final int avg;
    private final int max;
    private final long maskS;
    private final long maskL;
    private final long[] gear = new long[256];
    /** Default normalization level for new repositories. */
    public static final int DEFAULT_NORMALIZATION = 1;
    /**
     * Chunk sizes of new repositories (existing ones keep those in their config). 512 KiB average (1 MiB
     * before): a change in a dump costs about two chunks around it, so a second backup after 1 % clustered
     * change stores about half as much (docs/performance.md, "Chunk size trade-off"), at a small cost in
     * compression ratio and blobs per GiB.
     */
    public static final int DEFAULT_MIN = 128 * 1024;
    /** See {@link #DEFAULT_MIN}. */
    public static final int DEFAULT_AVG = 512 * 1024;
    /** See {@link #DEFAULT_MIN}. */
    public static final int DEFAULT_MAX = 2 * 1024 * 1024;

    public FastCdcChunker(int min, int avg, int max, int normalization, long seed) {
        if (normalization < 0 || normalization > 3) {
            throw new IllegalArgumentException("normalization level must be 0-3, was " + normalization);
        }
        if (Integer.bitCount(avg) != 1 || min < 64 || min > avg || avg > max) {
            throw new IllegalArgumentException("chunk sizes must satisfy 64 <= min <= avg <= max with avg a power of two: "
                    + min + "/" + avg + "/" + max);
        }
        this.min = min;
        this.avg = avg;
        this.max = max;
        int bits = Integer.numberOfTrailingZeros(avg);
        // the gear hash shifts left, so its high bits depend on the most bytes: take masks from the top
        this.maskS = topBits(bits + normalization);
        this.maskL = topBits(Math.max(1, bits - normalization));
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 256; i++) {
            gear[i] = r.nextLong();
        }
    }

    private static long topBits(int n) {
        return n >= 64 ? -1L : ((1L << n) - 1) << (64 - n);
    }

    public int min() {
        return min;
    }

    public int avg() {
        return avg;
    }

    @Override
    public int max() {
        return max;
    }

    /** A new incremental scanner for one stream (not thread-safe; one per stream). */
    @Override
    public Scanner scanner() {
        return new Scanner();
    }

    /**
     * Finds the same cut points as {@link #cut} while the data arrives, so a stream never buffers
     * bytes past a cut and never moves them: each byte is scanned once, where the caller wrote it.
     * The gear hash at a candidate position depends only on the 64 bytes ending there (older bytes are
     * shifted out), so the state between calls is the position in the current chunk and the hash.
     */
    public final class Scanner implements Chunker.Scanner {
        private int pos;
        private long hash;

        private Scanner() {
        }

        @Override
        public int position() {
            return pos;
        }

        @Override
        public void reset() {
            pos = 0;
            hash = 0;
        }

        /**
         * Feeds {@code b[off, off+len)}: returns {@code r} in {@code 1..len} when the current chunk ends
         * after {@code b[off+r-1]} (the scanner then starts the next chunk), or 0 when all {@code len}
         * bytes belong to the current chunk and no cut is due yet.
         */
        @Override
        public int scan(byte[] b, int off, int len) {
            int base = pos - off; // the position in the chunk of b[i] is base + i
            int i = off;
            int end = off + len;
            long h = hash;
            long[] g = gear;
            // before min - 64 nothing counts: by min, the hash has shifted those bytes out
            int skipEnd = off + (min - 64 - pos);
            if (i < skipEnd) {
                i = Math.min(end, skipEnd);
            }
            // min - 64 .. min - 1: hashed, never a cut
            int warmEnd = Math.min(end, off + (min - pos));
            for (; i < warmEnd; i++) {
                h = (h << 1) + g[b[i] & 0xff];
            }
            int avgEnd = Math.min(end, off + (avg - pos));
            long m = maskS;
            for (; i < avgEnd; i++) {
                h = (h << 1) + g[b[i] & 0xff];
                if ((h & m) == 0) {
                    return cutAt(i + 1 - off);
                }
            }
            int maxEnd = Math.min(end, off + (max - pos));
            m = maskL;
            for (; i < maxEnd; i++) {
                h = (h << 1) + g[b[i] & 0xff];
                if ((h & m) == 0) {
                    return cutAt(i + 1 - off);
                }
            }
            if (base + i == max) {
                return cutAt(i - off);
            }
            pos = base + i;
            hash = h;
            return 0;
        }

        private int cutAt(int consumed) {
            pos = 0;
            hash = 0;
            return consumed;
        }
    }

    /**
     * The length of the next chunk in {@code buf[off, off+len)}. Only call with {@code len >= max} or
     * at the end of the stream: a cut is final only when it cannot depend on bytes not yet seen.
     */
    @Override
    public int cut(byte[] buf, int off, int len) {
        if (len <= min) {
            return len;
        }
        int n = Math.min(len, max);
        int normal = Math.min(avg, n);
        long hash = 0;
        long[] g = gear;
        int i = min;
        // start hashing 64 bytes before min so the first candidate cut sees a full window
        for (int j = Math.max(0, min - 64); j < min; j++) {
            hash = (hash << 1) + g[buf[off + j] & 0xff];
        }
        for (; i < normal; i++) {
            hash = (hash << 1) + g[buf[off + i] & 0xff];
            if ((hash & maskS) == 0) {
                return i + 1;
            }
        }
        for (; i < n; i++) {
            hash = (hash << 1) + g[buf[off + i] & 0xff];
            if ((hash & maskL) == 0) {
                return i + 1;
            }
        }
        return n;
    }
}
