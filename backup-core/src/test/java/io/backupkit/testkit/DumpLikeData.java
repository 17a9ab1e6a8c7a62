package io.backupkit.testkit;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Deterministic text that looks like a pg_dump data section: tab-separated rows with ids, names,
 * timestamps, amounts and JSON. Row {@code i} depends only on the seed and {@code i}, so an edited
 * copy can be produced as a stream without holding either in memory.
 */
public final class DumpLikeData {
    private static final String[] WORDS = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
            "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"};

    private DumpLikeData() {
    }

    /** One row, about 100–140 bytes. */
    public static String row(long seed, long i) {
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
        return i + "\t" + WORDS[r.nextInt(WORDS.length)] + "_" + WORDS[r.nextInt(WORDS.length)] + r.nextInt(100000)
                + "\t2026-" + (1 + r.nextInt(12)) + "-" + (1 + r.nextInt(28)) + " " + r.nextInt(24) + ":" + r.nextInt(60)
                + ":00\t" + r.nextInt(1_000_000) / 100.0 + "\t{\"tier\": \"" + WORDS[r.nextInt(WORDS.length)]
                + "\", \"score\": " + r.nextInt(1000) + ", \"active\": " + r.nextBoolean() + "}\n";
    }

    /** {@code length} bytes of dump-like rows. */
    public static InputStream stream(long seed, long length) {
        return new RowStream(seed, length, null);
    }

    /**
     * The same rows, changed at a few scattered sites: at each site, rows are either rewritten in place
     * (edit) or new rows are inserted before them (shifting every later offset).
     *
     * @param sites        number of change sites, spread evenly
     * @param rowsPerSite  rows edited or inserted at each site
     */
    public static InputStream edited(long seed, long length, int sites, int rowsPerSite) {
        return new RowStream(seed, length, new Edits(sites, rowsPerSite, length / 120));
    }

    private record Edits(int sites, int rowsPerSite, long approxRows) {
        /** 0 = unchanged, 1 = edited, 2 = insert before. */
        int kind(long row) {
            long spacing = Math.max(1, approxRows / (sites + 1));
            long k = row / spacing;
            if (k == 0 || k > sites || row % spacing >= rowsPerSite) {
                return 0;
            }
            return k % 2 == 0 ? 1 : 2;
        }
    }

    private static final class RowStream extends InputStream {
        private final long seed;
        private final Edits edits;
        private long remaining;
        private long row;
        private byte[] buf = new byte[0];
        private int pos;

        RowStream(long seed, long length, Edits edits) {
            this.seed = seed;
            this.remaining = length;
            this.edits = edits;
        }

        private void next() {
            StringBuilder sb = new StringBuilder(8192);
            while (sb.length() < 8000) {
                int kind = edits == null ? 0 : edits.kind(row);
                if (kind == 1) {
                    sb.append(row(seed + 7, row));
                } else {
                    if (kind == 2) {
                        sb.append(row(seed + 11, row));
                    }
                    sb.append(row(seed, row));
                }
                row++;
            }
            buf = sb.toString().getBytes(StandardCharsets.US_ASCII);
            pos = 0;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining <= 0) {
                return -1;
            }
            if (pos >= buf.length) {
                next();
            }
            int n = (int) Math.min(Math.min(len, buf.length - pos), remaining);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            remaining -= n;
            return n;
        }
    }
}
