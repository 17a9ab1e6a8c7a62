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

    /**
     * pgbench_accounts as COPY prints it: {@code aid, bid, abalance, filler char(84)} — 84 blanks per
     * row, so it compresses ~100x like the real table (bench/run.sh's pgbench database).
     */
    static byte[] pgbench(int length) {
        byte[] b = new byte[length];
        int n = 0;
        StringBuilder row = new StringBuilder(128);
        String filler = " ".repeat(84);
        for (long aid = 1; n < length; aid++) {
            row.setLength(0);
            row.append(aid).append('\t').append((aid - 1) / 100_000 + 1).append('\t').append(0).append('\t').append(filler).append('\n');
            for (int i = 0; i < row.length() && n < length; i++) {
                b[n++] = (byte) row.charAt(i);
            }
        }
        return b;
    }

    /**
     * Rows like bench/run.sh's {@code mixed.events}: ids, timestamps, numbers, md5 hex digests, a small
     * JSON document and 48 random bytes as bytea hex; about half of every row is random, so zstd gains ~2x.
     */
    static byte[] mixed(int length) {
        byte[] b = new byte[length];
        SplittableRandom r = new SplittableRandom(11);
        String[] status = {"new", "paid", "shipped", "returned", "cancelled"};
        StringBuilder row = new StringBuilder(512);
        int n = 0;
        for (long id = 1; n < length; id++) {
            row.setLength(0);
            row.append(id).append('\t').append("2026-01-0").append(1 + id % 9).append(' ').append(10 + id % 13).append(':')
                    .append(10 + id % 50).append(":00+00\t").append(r.nextInt(1_000_000)).append('\t')
                    .append(r.nextInt(100_000)).append('.').append(r.nextInt(10)).append(r.nextInt(10)).append('\t')
                    .append(status[(int) (id % 5)]).append("\torder ").append(id).append(' ');
            hex(row, r, 16);
            row.append(' ');
            hex(row, r, r.nextInt(16));
            row.append("\t{\"qty\": ").append(r.nextInt(20)).append(", \"sku\": \"");
            hex(row, r, 16);
            row.append("\", \"gift\": ").append(id % 7 == 0).append(", \"tags\": [").append(r.nextInt(100)).append(", ")
                    .append(r.nextInt(100)).append("], \"price\": ").append(r.nextInt(500)).append(".").append(r.nextInt(100))
                    .append("}\t\\\\x");
            hex(row, r, 48);
            row.append('\n');
            for (int i = 0; i < row.length() && n < length; i++) {
                b[n++] = (byte) row.charAt(i);
            }
        }
        return b;
    }

    private static void hex(StringBuilder sb, SplittableRandom r, int bytes) {
        for (int i = 0; i < bytes; i++) {
            int v = r.nextInt(256);
            sb.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 15, 16));
        }
    }

    static byte[] of(String kind, int length) {
        return switch (kind) {
            case "dumplike" -> dumpLike(length);
            case "random" -> random(length);
            case "pgbench" -> pgbench(length);
            case "mixed" -> mixed(length);
            default -> throw new IllegalArgumentException("unknown data kind '" + kind + "' (pgbench, mixed, dumplike, random)");
        };
    }
}
