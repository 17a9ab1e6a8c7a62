package io.backupkit.redis.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Decoders of Redis's compact encodings stored as strings in RDB files: listpack, ziplist, intset, zipmap. */
final class Encodings {
    private Encodings() {
    }

    /** The elements of a listpack; integers as decimal strings. */
    static List<byte[]> listpack(byte[] b) {
        if (b.length < 7) {
            throw new RdbFormatException("a listpack of " + b.length + " bytes is too short");
        }
        long total = le(b, 0, 4);
        if (total != b.length) {
            throw new RdbFormatException("a listpack says it has " + total + " bytes but has " + b.length);
        }
        List<byte[]> out = new ArrayList<>();
        int p = 6;
        while (true) {
            check(b, p, 1);
            int e = b[p] & 0xff;
            if (e == 0xff) {
                break;
            }
            int start = p;
            if ((e & 0x80) == 0) {
                out.add(num(e & 0x7f));
                p += 1;
            } else if ((e & 0xc0) == 0x80) {
                int len = e & 0x3f;
                out.add(slice(b, p + 1, len));
                p += 1 + len;
            } else if ((e & 0xe0) == 0xc0) {
                check(b, p, 2);
                int v = ((e & 0x1f) << 8) | (b[p + 1] & 0xff);
                out.add(num(v >= 1 << 12 ? v - (1 << 13) : v));
                p += 2;
            } else if ((e & 0xf0) == 0xe0) {
                check(b, p, 2);
                int len = ((e & 0x0f) << 8) | (b[p + 1] & 0xff);
                out.add(slice(b, p + 2, len));
                p += 2 + len;
            } else {
                switch (e) {
                    case 0xf0 -> {
                        check(b, p, 5);
                        long len = le(b, p + 1, 4);
                        if (len > b.length) {
                            throw new RdbFormatException("a listpack string length " + len + " runs past its end");
                        }
                        out.add(slice(b, p + 5, (int) len));
                        p += 5 + (int) len;
                    }
                    case 0xf1 -> {
                        out.add(num(signed(b, p + 1, 2)));
                        p += 3;
                    }
                    case 0xf2 -> {
                        out.add(num(signed(b, p + 1, 3)));
                        p += 4;
                    }
                    case 0xf3 -> {
                        out.add(num(signed(b, p + 1, 4)));
                        p += 5;
                    }
                    case 0xf4 -> {
                        out.add(num(signed(b, p + 1, 8)));
                        p += 9;
                    }
                    default -> throw new RdbFormatException("unknown listpack encoding 0x" + Integer.toHexString(e));
                }
            }
            int entry = p - start;
            p += entry < 128 ? 1 : entry < 16384 ? 2 : entry < 2097152 ? 3 : entry < 268435456 ? 4 : 5;
        }
        return out;
    }

    /** The elements of a ziplist; integers as decimal strings. */
    static List<byte[]> ziplist(byte[] b) {
        if (b.length < 11) {
            throw new RdbFormatException("a ziplist of " + b.length + " bytes is too short");
        }
        List<byte[]> out = new ArrayList<>();
        int p = 10;
        while (true) {
            check(b, p, 1);
            if ((b[p] & 0xff) == 0xff) {
                break;
            }
            p += (b[p] & 0xff) < 254 ? 1 : 5; // previous entry length
            check(b, p, 1);
            int e = b[p] & 0xff;
            switch (e >> 6) {
                case 0 -> {
                    int len = e & 0x3f;
                    out.add(slice(b, p + 1, len));
                    p += 1 + len;
                }
                case 1 -> {
                    check(b, p, 2);
                    int len = ((e & 0x3f) << 8) | (b[p + 1] & 0xff);
                    out.add(slice(b, p + 2, len));
                    p += 2 + len;
                }
                case 2 -> {
                    check(b, p, 5);
                    long len = ((b[p + 1] & 0xffL) << 24) | ((b[p + 2] & 0xff) << 16) | ((b[p + 3] & 0xff) << 8) | (b[p + 4] & 0xff);
                    if (len > b.length) {
                        throw new RdbFormatException("a ziplist string length " + len + " runs past its end");
                    }
                    out.add(slice(b, p + 5, (int) len));
                    p += 5 + (int) len;
                }
                default -> {
                    switch (e) {
                        case 0xc0 -> {
                            out.add(num(signed(b, p + 1, 2)));
                            p += 3;
                        }
                        case 0xd0 -> {
                            out.add(num(signed(b, p + 1, 4)));
                            p += 5;
                        }
                        case 0xe0 -> {
                            out.add(num(signed(b, p + 1, 8)));
                            p += 9;
                        }
                        case 0xf0 -> {
                            out.add(num(signed(b, p + 1, 3)));
                            p += 4;
                        }
                        case 0xfe -> {
                            out.add(num(signed(b, p + 1, 1)));
                            p += 2;
                        }
                        default -> {
                            if (e >= 0xf1 && e <= 0xfd) {
                                out.add(num((e & 0x0f) - 1));
                                p += 1;
                            } else {
                                throw new RdbFormatException("unknown ziplist encoding 0x" + Integer.toHexString(e));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The members of an intset, as decimal strings. */
    static List<byte[]> intset(byte[] b) {
        check(b, 0, 8);
        int width = (int) le(b, 0, 4);
        long n = le(b, 4, 4);
        if ((width != 2 && width != 4 && width != 8) || 8 + n * width != b.length) {
            throw new RdbFormatException("an intset with element size " + width + " and " + n + " elements has " + b.length + " bytes");
        }
        List<byte[]> out = new ArrayList<>((int) n);
        for (int i = 0; i < n; i++) {
            out.add(num(signed(b, 8 + i * width, width)));
        }
        return out;
    }

    /** The fields of a zipmap (hashes in RDB files of Redis before 2.6). */
    static void zipmap(byte[] b, ValueSink sink) {
        int p = 1;
        while (true) {
            check(b, p, 1);
            if ((b[p] & 0xff) == 0xff) {
                return;
            }
            int[] kl = zipmapLen(b, p);
            byte[] field = slice(b, kl[1], kl[0]);
            p = kl[1] + kl[0];
            int[] vl = zipmapLen(b, p);
            check(b, vl[1], 1);
            int free = b[vl[1]] & 0xff;
            byte[] value = slice(b, vl[1] + 1, vl[0]);
            p = vl[1] + 1 + vl[0] + free;
            sink.hashField(field, value);
        }
    }

    private static int[] zipmapLen(byte[] b, int p) {
        check(b, p, 1);
        int first = b[p] & 0xff;
        if (first < 254) {
            return new int[] {first, p + 1};
        }
        check(b, p, 5);
        return new int[] {(int) le(b, p + 1, 4), p + 5};
    }

    private static byte[] num(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }

    private static long signed(byte[] b, int off, int width) {
        check(b, off, width);
        long v = le(b, off, width);
        int bits = width * 8;
        return bits == 64 ? v : (v << (64 - bits)) >> (64 - bits);
    }

    private static long le(byte[] b, int off, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    private static byte[] slice(byte[] b, int off, int len) {
        check(b, off, len);
        byte[] r = new byte[len];
        System.arraycopy(b, off, r, 0, len);
        return r;
    }

    private static void check(byte[] b, int off, int len) {
        if (off < 0 || len < 0 || off + (long) len > b.length) {
            throw new RdbFormatException("an encoded value is cut off (needs bytes " + off + ".." + (off + (long) len) + " of " + b.length + ")");
        }
    }
}
