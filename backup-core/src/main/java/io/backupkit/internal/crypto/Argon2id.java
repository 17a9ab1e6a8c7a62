package io.backupkit.internal.crypto;

import org.bouncycastle.crypto.digests.Blake2bDigest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Argon2id version 1.3 (RFC 9106) with the lanes of a slice computed in parallel threads.
 *
 * <p>Why not Bouncy Castle's generator, which computes the same function (the tests check every
 * output against it): it fills lanes one after another, so parallelism {@code p > 1} buys no wall
 * time, and it keeps each 1 KiB block in its own object. Here memory is one {@code long[]}, the
 * compression function works on locals, and each slice's lanes run on up to {@code p} threads
 * (lanes of one slice never reference each other's current segment, which is what makes this
 * legal). With {@code p = 2} on two cores a password slot opens in about half the time, at the same
 * memory and passes, i.e. the same cost to an attacker.
 *
 * <p>Blake2b (for H0 and the variable-length hash H') comes from Bouncy Castle: it is a few
 * microseconds of the total.
 */
public final class Argon2id {
    private static final int BLOCK_LONGS = 128;
    private static final int SYNC_POINTS = 4;
    private static final int VERSION = 0x13;
    private static final int TYPE_ID = 2;

    private Argon2id() {
    }

    /**
     * The tag of {@code password} under Argon2id v1.3.
     *
     * @param memoryKiB   m, at least 8 × parallelism
     * @param iterations  t, at least 1
     * @param parallelism p (lanes), 1–2^24−1
     * @param threads     threads to compute lanes with (1 computes them in the caller's thread)
     */
    public static byte[] hash(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism, int tagLength,
                              int threads) {
        return hash(password, salt, new byte[0], new byte[0], memoryKiB, iterations, parallelism, tagLength, threads);
    }

    /** With a secret key K and associated data X (RFC 9106 section 3.2); backupkit uses neither. */
    static byte[] hash(byte[] password, byte[] salt, byte[] secret, byte[] associated, int memoryKiB, int iterations,
                       int parallelism, int tagLength, int threads) {
        if (parallelism < 1 || iterations < 1 || memoryKiB < 8 * parallelism || tagLength < 4) {
            throw new IllegalArgumentException("invalid Argon2 parameters m=" + memoryKiB + " t=" + iterations + " p=" + parallelism);
        }
        int laneLength = (memoryKiB / (SYNC_POINTS * parallelism)) * SYNC_POINTS;
        int segmentLength = laneLength / SYNC_POINTS;
        int blocks = laneLength * parallelism;
        long[] memory = new long[blocks * BLOCK_LONGS];
        try {
            byte[] h0 = initialHash(password, salt, secret, associated, memoryKiB, iterations, parallelism, tagLength);
            byte[] input = new byte[72];
            System.arraycopy(h0, 0, input, 0, 64);
            byte[] block = new byte[1024];
            for (int lane = 0; lane < parallelism; lane++) {
                for (int i = 0; i < 2; i++) {
                    putIntLE(input, 64, i);
                    putIntLE(input, 68, lane);
                    variableHash(input, block);
                    int base = (lane * laneLength + i) * BLOCK_LONGS;
                    for (int k = 0; k < BLOCK_LONGS; k++) {
                        memory[base + k] = getLongLE(block, k * 8);
                    }
                }
            }
            java.util.Arrays.fill(block, (byte) 0);
            java.util.Arrays.fill(h0, (byte) 0); // H0 derives every block as well as the password does
            java.util.Arrays.fill(input, (byte) 0);
            Filler filler = new Filler(memory, parallelism, laneLength, segmentLength, iterations, blocks);
            int workers = Math.max(1, Math.min(threads, parallelism));
            if (workers == 1) {
                for (int pass = 0; pass < iterations; pass++) {
                    for (int slice = 0; slice < SYNC_POINTS; slice++) {
                        for (int lane = 0; lane < parallelism; lane++) {
                            filler.fillSegment(pass, lane, slice);
                        }
                    }
                }
            } else {
                fillInParallel(filler, iterations, parallelism, workers);
            }
            long[] last = new long[BLOCK_LONGS];
            for (int lane = 0; lane < parallelism; lane++) {
                int base = (lane * laneLength + laneLength - 1) * BLOCK_LONGS;
                for (int k = 0; k < BLOCK_LONGS; k++) {
                    last[k] ^= memory[base + k];
                }
            }
            byte[] c = new byte[1024];
            for (int k = 0; k < BLOCK_LONGS; k++) {
                putLongLE(c, k * 8, last[k]);
            }
            byte[] tag = new byte[tagLength];
            variableHash(c, tag);
            java.util.Arrays.fill(c, (byte) 0);
            java.util.Arrays.fill(last, 0);
            return tag;
        } finally {
            java.util.Arrays.fill(memory, 0);
        }
    }

    private static void fillInParallel(Filler filler, int iterations, int parallelism, int workers) {
        ExecutorService pool = Executors.newFixedThreadPool(workers - 1, r -> {
            Thread t = new Thread(r, "backupkit-argon2");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int pass = 0; pass < iterations; pass++) {
                for (int slice = 0; slice < SYNC_POINTS; slice++) {
                    // lanes of one slice only read blocks of earlier slices (or their own lane): independent
                    List<CompletableFuture<Void>> others = new ArrayList<>();
                    final int ps = pass;
                    final int sl = slice;
                    for (int lane = 1; lane < parallelism; lane++) {
                        final int ln = lane;
                        if (others.size() < workers - 1) {
                            others.add(CompletableFuture.runAsync(() -> filler.fillSegment(ps, ln, sl), pool));
                        } else {
                            filler.fillSegment(ps, ln, sl);
                        }
                    }
                    filler.fillSegment(pass, 0, slice);
                    try {
                        CompletableFuture.allOf(others.toArray(CompletableFuture[]::new)).join();
                    } catch (CompletionException e) {
                        throw e.getCause() instanceof RuntimeException r ? r : e;
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Fills segments of the memory; holds no per-call state, so lanes can run concurrently. */
    private static final class Filler {
        private final long[] memory;
        private final int lanes;
        private final int laneLength;
        private final int segmentLength;
        private final int iterations;
        private final int blocks;

        Filler(long[] memory, int lanes, int laneLength, int segmentLength, int iterations, int blocks) {
            this.memory = memory;
            this.lanes = lanes;
            this.laneLength = laneLength;
            this.segmentLength = segmentLength;
            this.iterations = iterations;
            this.blocks = blocks;
        }

        void fillSegment(int pass, int lane, int slice) {
            long[] tmp = new long[BLOCK_LONGS];
            boolean dataIndependent = pass == 0 && slice < SYNC_POINTS / 2;
            long[] address = null;
            long[] input = null;
            long[] zero = null;
            if (dataIndependent) {
                address = new long[BLOCK_LONGS];
                input = new long[BLOCK_LONGS];
                zero = new long[BLOCK_LONGS];
                input[0] = pass;
                input[1] = lane;
                input[2] = slice;
                input[3] = blocks;
                input[4] = iterations;
                input[5] = TYPE_ID;
            }
            int start = pass == 0 && slice == 0 ? 2 : 0;
            if (dataIndependent && start != 0) {
                nextAddresses(address, input, zero, tmp);
            }
            int current = lane * laneLength + slice * segmentLength + start;
            int previous = current % laneLength == 0 ? current + laneLength - 1 : current - 1;
            for (int i = start; i < segmentLength; i++, current++, previous++) {
                if (current % laneLength == 1) {
                    previous = current - 1;
                }
                long pseudoRandom;
                if (dataIndependent) {
                    if (i % BLOCK_LONGS == 0) {
                        nextAddresses(address, input, zero, tmp);
                    }
                    pseudoRandom = address[i % BLOCK_LONGS];
                } else {
                    pseudoRandom = memory[previous * BLOCK_LONGS];
                }
                int refLane = (int) ((pseudoRandom >>> 32) % lanes);
                if (pass == 0 && slice == 0) {
                    refLane = lane;
                }
                int refIndex = referenceIndex(pass, slice, i, pseudoRandom & 0xFFFFFFFFL, refLane == lane);
                int ref = refLane * laneLength + refIndex;
                compress(memory, previous * BLOCK_LONGS, ref * BLOCK_LONGS, current * BLOCK_LONGS, pass > 0, tmp);
            }
        }

        private int referenceIndex(int pass, int slice, int index, long j1, boolean sameLane) {
            int area;
            if (pass == 0) {
                area = slice * segmentLength + (sameLane ? index - 1 : (index == 0 ? -1 : 0));
            } else {
                area = laneLength - segmentLength + (sameLane ? index - 1 : (index == 0 ? -1 : 0));
            }
            long x = (j1 * j1) >>> 32;
            long y = (area * x) >>> 32;
            long relative = area - 1 - y;
            int startPosition = 0;
            if (pass != 0) {
                startPosition = slice == SYNC_POINTS - 1 ? 0 : (slice + 1) * segmentLength;
            }
            return (int) ((startPosition + relative) % laneLength);
        }

        private static void nextAddresses(long[] address, long[] input, long[] zero, long[] tmp) {
            input[6]++;
            compressInto(zero, 0, input, 0, address, tmp);
            compressInto(zero, 0, address, 0, address, tmp);
        }
    }

    /** out = G(zero-or-X, Y) for the address generator: out = P(X xor Y) xor X xor Y (no xor with old). */
    private static void compressInto(long[] x, int xo, long[] y, int yo, long[] out, long[] r) {
        for (int k = 0; k < BLOCK_LONGS; k++) {
            r[k] = x[xo + k] ^ y[yo + k];
        }
        long[] z = new long[BLOCK_LONGS];
        System.arraycopy(r, 0, z, 0, BLOCK_LONGS);
        permute(z);
        for (int k = 0; k < BLOCK_LONGS; k++) {
            out[k] = z[k] ^ r[k];
        }
    }

    /**
     * memory[cur] = G(memory[prev], memory[ref]) (xor memory[cur] in passes after the first, version
     * 1.3). G(X, Y) = P(R) xor R with R = X xor Y, P = the Blake2b-based permutation on rows, then columns.
     */
    private static void compress(long[] m, int prev, int ref, int cur, boolean xorOld, long[] r) {
        long[] z = r;
        // r = X xor Y kept in the destination's scratch: z is permuted in place, then out = z xor r
        long[] rr = SCRATCH.get();
        for (int k = 0; k < BLOCK_LONGS; k++) {
            long v = m[prev + k] ^ m[ref + k];
            rr[k] = v;
            z[k] = v;
        }
        permute(z);
        if (xorOld) {
            for (int k = 0; k < BLOCK_LONGS; k++) {
                m[cur + k] ^= z[k] ^ rr[k];
            }
        } else {
            for (int k = 0; k < BLOCK_LONGS; k++) {
                m[cur + k] = z[k] ^ rr[k];
            }
        }
    }

    private static final ThreadLocal<long[]> SCRATCH = ThreadLocal.withInitial(() -> new long[BLOCK_LONGS]);

    /** P applied to the 8 rows (16 consecutive words each), then to the 8 columns (word pairs 2i, 2i+1 of every row). */
    private static void permute(long[] v) {
        for (int row = 0; row < 8; row++) {
            int b = row * 16;
            round(v, b, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13, b + 14, b + 15);
        }
        for (int col = 0; col < 8; col++) {
            int b = col * 2;
            round(v, b, b + 1, b + 16, b + 17, b + 32, b + 33, b + 48, b + 49, b + 64, b + 65, b + 80, b + 81, b + 96, b + 97,
                    b + 112, b + 113);
        }
    }

    private static void round(long[] v, int i0, int i1, int i2, int i3, int i4, int i5, int i6, int i7,
                              int i8, int i9, int i10, int i11, int i12, int i13, int i14, int i15) {
        long v0 = v[i0], v1 = v[i1], v2 = v[i2], v3 = v[i3], v4 = v[i4], v5 = v[i5], v6 = v[i6], v7 = v[i7];
        long v8 = v[i8], v9 = v[i9], v10 = v[i10], v11 = v[i11], v12 = v[i12], v13 = v[i13], v14 = v[i14], v15 = v[i15];
        // columns of the 4x4 matrix
        v0 = fBlaMka(v0, v4); v12 = Long.rotateRight(v12 ^ v0, 32); v8 = fBlaMka(v8, v12); v4 = Long.rotateRight(v4 ^ v8, 24);
        v0 = fBlaMka(v0, v4); v12 = Long.rotateRight(v12 ^ v0, 16); v8 = fBlaMka(v8, v12); v4 = Long.rotateRight(v4 ^ v8, 63);
        v1 = fBlaMka(v1, v5); v13 = Long.rotateRight(v13 ^ v1, 32); v9 = fBlaMka(v9, v13); v5 = Long.rotateRight(v5 ^ v9, 24);
        v1 = fBlaMka(v1, v5); v13 = Long.rotateRight(v13 ^ v1, 16); v9 = fBlaMka(v9, v13); v5 = Long.rotateRight(v5 ^ v9, 63);
        v2 = fBlaMka(v2, v6); v14 = Long.rotateRight(v14 ^ v2, 32); v10 = fBlaMka(v10, v14); v6 = Long.rotateRight(v6 ^ v10, 24);
        v2 = fBlaMka(v2, v6); v14 = Long.rotateRight(v14 ^ v2, 16); v10 = fBlaMka(v10, v14); v6 = Long.rotateRight(v6 ^ v10, 63);
        v3 = fBlaMka(v3, v7); v15 = Long.rotateRight(v15 ^ v3, 32); v11 = fBlaMka(v11, v15); v7 = Long.rotateRight(v7 ^ v11, 24);
        v3 = fBlaMka(v3, v7); v15 = Long.rotateRight(v15 ^ v3, 16); v11 = fBlaMka(v11, v15); v7 = Long.rotateRight(v7 ^ v11, 63);
        // diagonals
        v0 = fBlaMka(v0, v5); v15 = Long.rotateRight(v15 ^ v0, 32); v10 = fBlaMka(v10, v15); v5 = Long.rotateRight(v5 ^ v10, 24);
        v0 = fBlaMka(v0, v5); v15 = Long.rotateRight(v15 ^ v0, 16); v10 = fBlaMka(v10, v15); v5 = Long.rotateRight(v5 ^ v10, 63);
        v1 = fBlaMka(v1, v6); v12 = Long.rotateRight(v12 ^ v1, 32); v11 = fBlaMka(v11, v12); v6 = Long.rotateRight(v6 ^ v11, 24);
        v1 = fBlaMka(v1, v6); v12 = Long.rotateRight(v12 ^ v1, 16); v11 = fBlaMka(v11, v12); v6 = Long.rotateRight(v6 ^ v11, 63);
        v2 = fBlaMka(v2, v7); v13 = Long.rotateRight(v13 ^ v2, 32); v8 = fBlaMka(v8, v13); v7 = Long.rotateRight(v7 ^ v8, 24);
        v2 = fBlaMka(v2, v7); v13 = Long.rotateRight(v13 ^ v2, 16); v8 = fBlaMka(v8, v13); v7 = Long.rotateRight(v7 ^ v8, 63);
        v3 = fBlaMka(v3, v4); v14 = Long.rotateRight(v14 ^ v3, 32); v9 = fBlaMka(v9, v14); v4 = Long.rotateRight(v4 ^ v9, 24);
        v3 = fBlaMka(v3, v4); v14 = Long.rotateRight(v14 ^ v3, 16); v9 = fBlaMka(v9, v14); v4 = Long.rotateRight(v4 ^ v9, 63);
        v[i0] = v0; v[i1] = v1; v[i2] = v2; v[i3] = v3; v[i4] = v4; v[i5] = v5; v[i6] = v6; v[i7] = v7;
        v[i8] = v8; v[i9] = v9; v[i10] = v10; v[i11] = v11; v[i12] = v12; v[i13] = v13; v[i14] = v14; v[i15] = v15;
    }

    /** a + b + 2 * lo32(a) * lo32(b): Blake2b's addition with the multiplication Argon2 adds. */
    private static long fBlaMka(long a, long b) {
        return a + b + 2 * (a & 0xFFFFFFFFL) * (b & 0xFFFFFFFFL);
    }

    private static byte[] initialHash(byte[] password, byte[] salt, byte[] secret, byte[] associated, int m, int t, int p,
                                      int tagLength) {
        Blake2bDigest d = new Blake2bDigest(512);
        byte[] four = new byte[4];
        for (int v : new int[] {p, tagLength, m, t, VERSION, TYPE_ID, password.length}) {
            putIntLE(four, 0, v);
            d.update(four, 0, 4);
        }
        d.update(password, 0, password.length);
        putIntLE(four, 0, salt.length);
        d.update(four, 0, 4);
        d.update(salt, 0, salt.length);
        putIntLE(four, 0, secret.length);
        d.update(four, 0, 4);
        d.update(secret, 0, secret.length);
        putIntLE(four, 0, associated.length);
        d.update(four, 0, 4);
        d.update(associated, 0, associated.length);
        byte[] h0 = new byte[64];
        d.doFinal(h0, 0);
        return h0;
    }

    /** H' of RFC 9106 section 3.3: Blake2b with the output length prefixed, chained for outputs over 64 bytes. */
    private static void variableHash(byte[] input, byte[] out) {
        byte[] len = new byte[4];
        putIntLE(len, 0, out.length);
        if (out.length <= 64) {
            Blake2bDigest d = new Blake2bDigest(out.length * 8);
            d.update(len, 0, 4);
            d.update(input, 0, input.length);
            d.doFinal(out, 0);
            return;
        }
        Blake2bDigest d = new Blake2bDigest(512);
        byte[] v = new byte[64];
        d.update(len, 0, 4);
        d.update(input, 0, input.length);
        d.doFinal(v, 0);
        System.arraycopy(v, 0, out, 0, 32);
        int pos = 32;
        int remaining = out.length - 32;
        while (remaining > 64) {
            d.reset();
            d.update(v, 0, 64);
            d.doFinal(v, 0);
            System.arraycopy(v, 0, out, pos, 32);
            pos += 32;
            remaining -= 32;
        }
        Blake2bDigest last = new Blake2bDigest(remaining * 8);
        last.update(v, 0, 64);
        byte[] tail = new byte[remaining];
        last.doFinal(tail, 0);
        System.arraycopy(tail, 0, out, pos, remaining);
    }

    private static void putIntLE(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }

    private static void putLongLE(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (8 * i));
        }
    }

    private static long getLongLE(byte[] b, int off) {
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xffL);
        }
        return v;
    }
}
