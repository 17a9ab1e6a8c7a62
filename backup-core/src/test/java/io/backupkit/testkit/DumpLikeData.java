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

    private static final byte[][] WORD_BYTES = java.util.Arrays.stream(WORDS)
            .map(w -> w.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);

    /** One row, about 100–140 bytes. */
    public static String row(long seed, long i) {
        Row r = new Row();
        r.append(seed, i);
        return new String(r.buf, 0, r.len, StandardCharsets.US_ASCII);
    }

    /** Appends rows as bytes; much faster than building strings, so generators do not bound benchmarks. */
    private static final class Row {
        byte[] buf = new byte[16384];
        int len;

        void put(byte[] b) {
            System.arraycopy(b, 0, buf, len, b.length);
            len += b.length;
        }

        void put(char c) {
            buf[len++] = (byte) c;
        }

        void put(String s) {
            for (int k = 0; k < s.length(); k++) {
                buf[len++] = (byte) s.charAt(k);
            }
        }

        void num(long v) {
            if (v == 0) {
                buf[len++] = '0';
                return;
            }
            int start = len;
            while (v > 0) {
                buf[len++] = (byte) ('0' + v % 10);
                v /= 10;
            }
            for (int a = start, b = len - 1; a < b; a++, b--) {
                byte t = buf[a];
                buf[a] = buf[b];
                buf[b] = t;
            }
        }

        void append(long seed, long i) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
            num(i);
            put('\t');
            put(WORD_BYTES[r.nextInt(WORDS.length)]);
            put('_');
            put(WORD_BYTES[r.nextInt(WORDS.length)]);
            num(r.nextInt(100000));
            put("\t2026-");
            num(1 + r.nextInt(12));
            put('-');
            num(1 + r.nextInt(28));
            put(' ');
            num(r.nextInt(24));
            put(':');
            num(r.nextInt(60));
            put(":00\t");
            int cents = r.nextInt(1_000_000);
            num(cents / 100);
            put('.');
            num(cents % 100);
            put("\t{\"tier\": \"");
            put(WORD_BYTES[r.nextInt(WORDS.length)]);
            put("\", \"score\": ");
            num(r.nextInt(1000));
            put(", \"active\": ");
            put(r.nextBoolean() ? "true" : "false");
            put("}\n");
        }
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
        private int limit;
        private int pos;

        RowStream(long seed, long length, Edits edits) {
            this.seed = seed;
            this.remaining = length;
            this.edits = edits;
        }

        private final Row rows = new Row();

        private void next() {
            rows.len = 0;
            while (rows.len < 8000) {
                int kind = edits == null ? 0 : edits.kind(row);
                if (kind == 1) {
                    rows.append(seed + 7, row);
                } else {
                    if (kind == 2) {
                        rows.append(seed + 11, row);
                    }
                    rows.append(seed, row);
                }
                row++;
            }
            buf = rows.buf;
            limit = rows.len;
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
            if (pos >= limit) {
                next();
            }
            int n = (int) Math.min(Math.min(len, limit - pos), remaining);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            remaining -= n;
            return n;
        }
    }
}
