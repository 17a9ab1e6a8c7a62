package io.backupkit.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seeded mutations for the fuzz campaign: bit flips, interesting bytes, truncation, extension,
 * splices, deleted and duplicated ranges, length fields set to extremes, and JSON-aware edits
 * (numbers and strings replaced by extremes, keys renamed, deep nesting, structure swapped). One
 * instance per input, so any failing input is reproduced by its seed alone.
 */
final class Mutator {
    private static final int[] INTS = {0, 1, -1, 2, 3, 4, 7, 8, 31, 32, 43, 44, 45, 63, 64, 127, 128, 255, 256, 1 << 16, 65535,
            1 << 20, 1 << 24, (1 << 24) + 1, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE / 44, Integer.MAX_VALUE - 7,
            0x7f7f7f7f, 0x80000000, 0xffff};
    private static final long[] LONGS = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, Integer.MAX_VALUE + 1L, 1L << 40, 3};
    private static final String[] NUMBERS = {"0", "-1", "1", "2", "19456", "1048576", "1048577", "2147483647", "2147483648",
            "-2147483649", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e309", "-1e309", "1.5",
            "0.0000001", "1E2", "-0", "00012", "\"12\"", "null", "[]", "{}", "true", "\"\""};
    private static final String[] STRINGS = {"", "x", "null", "-1", "0", "zz", "0123456789abcdef0123456789abcdef",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "FFFF", "data/00/00", "../../etc/passwd",
            "\\u0000", "\\ud800", "é", "AAAA", "!!!", "none", "aes-256-gcm", "argon2id", "hkdf-sha256", "password", "keyfile",
            "2026-13-45T99:00:00Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "1970-01-01T00:00:00Z"};
    private static final Pattern NUMBER = Pattern.compile("(?<=[:\\[,])\\s*-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?");
    // possessive, so a 200 KB string value does not recurse once per character
    private static final Pattern STRING_VALUE = Pattern.compile("(?<=[:\\[,])\"[^\"\\\\]*+(?:\\\\.[^\"\\\\]*+)*+\"");
    private static final Pattern KEY = Pattern.compile("\"([A-Za-z0-9_]+)\":");
    private static final Pattern VALUE_START = Pattern.compile("(?<=:)[\\[{\"0-9tfn-]");

    private final Random random;
    private final List<byte[]> corpus;
    private final List<String> applied = new ArrayList<>();

    Mutator(long seed, List<byte[]> corpus) {
        this.random = new Random(seed);
        this.corpus = corpus;
    }

    /** What was done, for a failure message. */
    String applied() {
        return String.join(", ", applied);
    }

    Random random() {
        return random;
    }

    /** 1-3 byte-level mutations; {@code lengthFields} are offsets of 4-byte length fields (8-byte at negative offsets). */
    byte[] bytes(byte[] in, int... lengthFields) {
        byte[] b = in;
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            b = lengthFields.length > 0 && random.nextInt(3) == 0 ? lengthField(b, lengthFields) : byteOp(b);
        }
        return b;
    }

    /** 1-3 mutations of a JSON text, mostly JSON-aware, some byte-level. */
    byte[] json(byte[] in) {
        String s = new String(in, StandardCharsets.UTF_8);
        int n = 1 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            if (random.nextInt(5) == 0) {
                s = new String(byteOp(s.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
            } else {
                s = jsonOp(s);
            }
        }
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private byte[] lengthField(byte[] b, int[] fields) {
        int f = fields[random.nextInt(fields.length)];
        boolean wide = f < 0;
        int off = wide ? -f - 1 : f;
        if (off + (wide ? 8 : 4) > b.length) {
            return byteOp(b);
        }
        byte[] out = b.clone();
        if (wide) {
            long v = random.nextInt(4) == 0 ? random.nextLong() : LONGS[random.nextInt(LONGS.length)];
            applied.add("long@" + off + "=" + v);
            for (int i = 0; i < 8; i++) {
                out[off + i] = (byte) (v >>> (56 - 8 * i));
            }
        } else {
            int v = random.nextInt(4) == 0 ? random.nextInt() : INTS[random.nextInt(INTS.length)];
            if (random.nextInt(4) == 0) {
                v = b.length + random.nextInt(9) - 4;
            }
            applied.add("int@" + off + "=" + v);
            for (int i = 0; i < 4; i++) {
                out[off + i] = (byte) (v >>> (24 - 8 * i));
            }
        }
        return out;
    }

    private byte[] byteOp(byte[] b) {
        int op = random.nextInt(10);
        int len = b.length;
        switch (op) {
            case 0 -> {
                byte[] out = b.clone();
                int flips = 1 + random.nextInt(8);
                for (int i = 0; i < flips && len > 0; i++) {
                    int at = random.nextInt(len);
                    out[at] ^= (byte) (1 << random.nextInt(8));
                }
                applied.add("flip" + flips);
                return out;
            }
            case 1 -> {
                byte[] out = b.clone();
                byte[] interesting = {0, (byte) 0xff, 0x7f, (byte) 0x80, 1, '"', '{', '[', '\\', ':', ','};
                for (int i = 0; i < 1 + random.nextInt(4) && len > 0; i++) {
                    out[random.nextInt(len)] = interesting[random.nextInt(interesting.length)];
                }
                applied.add("bytes");
                return out;
            }
            case 2 -> {
                int keep = len == 0 ? 0 : random.nextInt(len);
                applied.add("truncate@" + keep);
                return java.util.Arrays.copyOf(b, keep);
            }
            case 3 -> {
                int extra = random.nextInt(20) == 0 ? 64 * 1024 : 1 + random.nextInt(64);
                byte[] out = java.util.Arrays.copyOf(b, len + extra);
                for (int i = len; i < out.length; i++) {
                    out[i] = (byte) random.nextInt(256);
                }
                applied.add("extend" + extra);
                return out;
            }
            case 4 -> {
                byte[] src = corpus.isEmpty() || random.nextBoolean() ? b : corpus.get(random.nextInt(corpus.size()));
                if (src.length == 0) {
                    return b;
                }
                int from = random.nextInt(src.length);
                int n = Math.min(src.length - from, 1 + random.nextInt(256));
                int at = random.nextInt(len + 1);
                byte[] out = new byte[len + n];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(src, from, out, at, n);
                System.arraycopy(b, at, out, at + n, len - at);
                applied.add("splice" + n + "@" + at);
                return out;
            }
            case 5 -> {
                if (len == 0) {
                    return b;
                }
                int from = random.nextInt(len);
                int n = Math.min(len - from, 1 + random.nextInt(64));
                byte[] out = new byte[len - n];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, from + n, out, from, len - from - n);
                applied.add("delete" + n + "@" + from);
                return out;
            }
            case 6 -> {
                if (len == 0) {
                    return b;
                }
                int from = random.nextInt(len);
                int n = Math.min(len - from, 1 + random.nextInt(128));
                int at = random.nextInt(len + 1);
                byte[] out = new byte[len + n];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(b, from, out, at, n);
                System.arraycopy(b, at, out, at + n, len - at);
                applied.add("dup" + n);
                return out;
            }
            case 7 -> {
                return len < 4 ? b : lengthField(b, new int[] {random.nextInt(len - 3)});
            }
            case 8 -> {
                return len < 8 ? b : lengthField(b, new int[] {-1 - random.nextInt(len - 7)});
            }
            default -> {
                if (len < 2) {
                    return b;
                }
                byte[] out = b.clone();
                int at = random.nextInt(len - 1);
                int v = random.nextBoolean() ? 0xffff : random.nextInt(65536);
                out[at] = (byte) (v >>> 8);
                out[at + 1] = (byte) v;
                applied.add("short@" + at);
                return out;
            }
        }
    }

    private String jsonOp(String s) {
        int op = random.nextInt(7);
        switch (op) {
            case 0 -> {
                return replaceOne(s, NUMBER, () -> NUMBERS[random.nextInt(NUMBERS.length)], "number");
            }
            case 1 -> {
                return replaceOne(s, STRING_VALUE, () -> {
                    int k = random.nextInt(12);
                    if (k == 0) {
                        return "\"" + "a".repeat(random.nextBoolean() ? 5000 : 200_000) + "\"";
                    }
                    if (k == 1) {
                        return NUMBERS[random.nextInt(NUMBERS.length)];
                    }
                    return "\"" + STRINGS[random.nextInt(STRINGS.length)] + "\"";
                }, "string");
            }
            case 2 -> {
                return replaceOne(s, KEY, () -> "\"" + (random.nextBoolean() ? "x" : "") + "renamed\":", "key");
            }
            case 3 -> {
                int depth = random.nextBoolean() ? 200 : 5000;
                String open = random.nextBoolean() ? "[" : "{\"a\":";
                String close = open.equals("[") ? "]" : "}";
                return insertValue(s, open.repeat(depth) + "1" + close.repeat(depth), "nest" + depth);
            }
            case 4 -> {
                String[] values = {"[]", "{}", "null", "[null]", "[1,2,3]", "{\"k\":null}", "\"s\"", "true", "-1"};
                return insertValue(s, values[random.nextInt(values.length)], "type");
            }
            case 5 -> {
                // swap a structural character
                char[] structural = {'{', '}', '[', ']', ',', ':', '"'};
                List<Integer> at = new ArrayList<>();
                for (int i = 0; i < s.length(); i++) {
                    if (new String(structural).indexOf(s.charAt(i)) >= 0) {
                        at.add(i);
                    }
                }
                if (at.isEmpty()) {
                    return s;
                }
                int i = at.get(random.nextInt(at.size()));
                applied.add("struct@" + i);
                return s.substring(0, i) + structural[random.nextInt(structural.length)] + s.substring(i + 1);
            }
            default -> {
                // duplicate a key with another value
                Matcher m = KEY.matcher(s);
                List<Integer> keys = new ArrayList<>();
                while (m.find()) {
                    keys.add(m.start());
                }
                if (keys.isEmpty()) {
                    return s;
                }
                int i = keys.get(random.nextInt(keys.size()));
                Matcher k = KEY.matcher(s);
                k.find(i);
                applied.add("dupkey");
                return s.substring(0, i) + k.group() + NUMBERS[random.nextInt(NUMBERS.length)] + "," + s.substring(i);
            }
        }
    }

    private String replaceOne(String s, Pattern p, java.util.function.Supplier<String> with, String what) {
        Matcher m = p.matcher(s);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) {
            spans.add(new int[] {m.start(), m.end()});
        }
        if (spans.isEmpty()) {
            return s;
        }
        int[] span = spans.get(random.nextInt(spans.size()));
        String v = with.get();
        applied.add(what + "@" + span[0] + "=" + (v.length() > 30 ? v.substring(0, 30) + "…" : v));
        return s.substring(0, span[0]) + v + s.substring(span[1]);
    }

    /** Replaces the start of a random value by {@code value} followed by a comma-free splice: the old value stays after it. */
    private String insertValue(String s, String value, String what) {
        Matcher m = VALUE_START.matcher(s);
        List<Integer> at = new ArrayList<>();
        while (m.find()) {
            at.add(m.start());
        }
        if (at.isEmpty()) {
            return s;
        }
        int i = at.get(random.nextInt(at.size()));
        // replace the value that starts at i: find its end with a small scanner
        int end = valueEnd(s, i);
        applied.add(what + "@" + i);
        return s.substring(0, i) + value + s.substring(end);
    }

    private static int valueEnd(String s, int i) {
        char c = s.charAt(i);
        if (c == '"') {
            int j = i + 1;
            while (j < s.length() && s.charAt(j) != '"') {
                j += s.charAt(j) == '\\' ? 2 : 1;
            }
            return Math.min(s.length(), j + 1);
        }
        if (c == '[' || c == '{') {
            int depth = 0;
            boolean inString = false;
            for (int j = i; j < s.length(); j++) {
                char d = s.charAt(j);
                if (inString) {
                    if (d == '\\') {
                        j++;
                    } else if (d == '"') {
                        inString = false;
                    }
                } else if (d == '"') {
                    inString = true;
                } else if (d == '[' || d == '{') {
                    depth++;
                } else if (d == ']' || d == '}') {
                    depth--;
                    if (depth == 0) {
                        return j + 1;
                    }
                }
            }
            return s.length();
        }
        int j = i;
        while (j < s.length() && ",}]".indexOf(s.charAt(j)) < 0) {
            j++;
        }
        return j;
    }
}
