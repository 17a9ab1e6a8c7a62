package io.backupkit.bench;

import io.backupkit.testkit.DumpLikeData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.SplittableRandom;

/** Input shared by the benchmarks: dump-like text (what pg_dump COPY output looks like) or random bytes. */
final class BenchData {
    static final int MIB = 1 << 20;

    private BenchData() {
    }

    static byte[] dumpLike(int length) {
        byte[] b = new byte[length];
        try (InputStream in = DumpLikeData.stream(42, length)) {
            int n = 0;
            while (n < length) {
                int r = in.read(b, n, length - n);
                if (r < 0) {
                    throw new IllegalStateException("dump-like stream ended at " + n + " of " + length);
                }
                n += r;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b;
    }

    static byte[] random(int length) {
        byte[] b = new byte[length];
        new SplittableRandom(7).nextBytes(b);
        return b;
    }

    static byte[] of(String kind, int length) {
        return switch (kind) {
            case "dumplike" -> dumpLike(length);
            case "random" -> random(length);
            default -> throw new IllegalArgumentException("unknown data kind '" + kind + "' (dumplike, random)");
        };
    }
}
