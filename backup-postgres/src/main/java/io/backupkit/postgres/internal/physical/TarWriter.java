package io.backupkit.postgres.internal.physical;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Makes ustar headers the way pg_basebackup's archives look (so every physical snapshot is a set of
 * plain tar streams a person can also unpack with {@code tar}): names up to 100 bytes in the name
 * field, up to 255 with the ustar prefix, longer ones through a pax header; sizes from 8 GiB on in
 * GNU base-256.
 */
public final class TarWriter {
    private TarWriter() {
    }

    /** The header block(s) of a regular file. */
    public static byte[] file(String name, long size, int mode, long mtime) {
        return header(name, TarEntry.FILE, size, mode, mtime, null);
    }

    /** The header of a directory (written with a trailing slash, as pg_basebackup does). */
    public static byte[] directory(String name, int mode, long mtime) {
        return header(name.endsWith("/") ? name : name + "/", TarEntry.DIRECTORY, 0, mode, mtime, null);
    }

    public static byte[] symlink(String name, String target, long mtime) {
        return header(name, TarEntry.SYMLINK, 0, 0777, mtime, target);
    }

    /** Zero bytes that pad {@code size} bytes of content to the next block. */
    public static int padding(long size) {
        return (int) ((TarReader.BLOCK - size % TarReader.BLOCK) % TarReader.BLOCK);
    }

    /** The end-of-archive marker: two zero blocks. */
    public static byte[] trailer() {
        return new byte[2 * TarReader.BLOCK];
    }

    private static byte[] header(String name, char type, long size, int mode, long mtime, String link) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = link == null ? new byte[0] : link.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        String shortName = name;
        boolean pax = false;
        if (nameBytes.length > 100) {
            int split = splitPoint(name);
            if (split > 0) {
                prefix = name.substring(0, split);
                shortName = name.substring(split + 1);
            } else {
                pax = true;
                shortName = tail(name);
            }
        }
        if (linkBytes.length > 100) {
            pax = true;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
        if (pax) {
            StringBuilder records = new StringBuilder();
            if (nameBytes.length > 100) {
                records.append(paxRecord("path", name));
            }
            if (linkBytes.length > 100) {
                records.append(paxRecord("linkpath", link));
            }
            byte[] data = records.toString().getBytes(StandardCharsets.UTF_8);
            out.writeBytes(block("PaxHeader/" + tail(shortName), 'x', data.length, 0644, mtime, null, ""));
            out.writeBytes(data);
            out.writeBytes(new byte[padding(data.length)]);
        }
        out.writeBytes(block(shortName, type, size, mode, mtime, link == null ? null : (linkBytes.length > 100 ? "" : link), prefix));
        return out.toByteArray();
    }

    private static byte[] block(String name, char type, long size, int mode, long mtime, String link, String prefix) {
        byte[] h = new byte[TarReader.BLOCK];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode & 07777);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        if (size < 077777777777L) {
            octal(h, 124, 12, size);
        } else {
            // GNU base-256: high bit set, big-endian value in the remaining bytes
            long v = size;
            for (int i = 124 + 11; i > 124; i--) {
                h[i] = (byte) v;
                v >>>= 8;
            }
            h[124] = (byte) 0x80;
        }
        octal(h, 136, 12, Math.max(0, mtime));
        h[156] = (byte) type;
        if (link != null) {
            put(h, 157, 100, link);
        }
        put(h, 257, 6, "ustar");
        h[263] = '0';
        h[264] = '0';
        put(h, 345, 155, prefix);
        for (int i = 148; i < 156; i++) {
            h[i] = ' ';
        }
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        String s = String.format("%06o", sum);
        put(h, 148, 6, s);
        h[154] = 0;
        h[155] = ' ';
        return h;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        String padded = "0".repeat(Math.max(0, len - 1 - s.length())) + s;
        put(h, off, len - 1, padded);
        h[off + len - 1] = 0;
    }

    /** Where to split a long name into ustar prefix (≤ 155 bytes) and name (≤ 100 bytes), or -1. */
    private static int splitPoint(String name) {
        for (int i = name.length() - 1; i > 0; i--) {
            if (name.charAt(i) == '/') {
                int prefixLen = name.substring(0, i).getBytes(StandardCharsets.UTF_8).length;
                int nameLen = name.substring(i + 1).getBytes(StandardCharsets.UTF_8).length;
                if (prefixLen <= 155 && nameLen <= 100 && nameLen > 0) {
                    return i;
                }
                if (nameLen > 100) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static String tail(String name) {
        String t = name;
        while (t.getBytes(StandardCharsets.UTF_8).length > 90) {
            t = t.substring(1);
        }
        return t;
    }

    private static String paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        int total = len + Integer.toString(len).length();
        if (Integer.toString(total).length() != Integer.toString(len).length()) {
            total++;
        }
        return total + body;
    }
}
