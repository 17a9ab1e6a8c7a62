package io.backupkit.postgres.internal.physical;

import io.backupkit.EngineException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Reads a tar archive (ustar as pg_basebackup writes it, plus pax and GNU long names) from a stream,
 * one block at a time, never seeking. Between {@link #next()} calls the caller reads the entry's
 * content with {@link #read(byte[], int, int)}; what it leaves unread is skipped.
 */
public final class TarReader {
    static final int BLOCK = 512;
    private final InputStream in;
    private final String what;
    private long remaining;
    private long padding;
    private boolean ended;

    public TarReader(InputStream in, String what) {
        this.in = in;
        this.what = what;
    }

    /** The next entry, or null at the end-of-archive marker (a zero block) or at a clean end of input. */
    public TarEntry next() throws IOException {
        skip(remaining + padding);
        remaining = 0;
        padding = 0;
        if (ended) {
            return null;
        }
        ByteArrayOutputStream raw = new ByteArrayOutputStream(BLOCK);
        String longName = null;
        String longLink = null;
        Long paxSize = null;
        while (true) {
            byte[] block = new byte[BLOCK];
            int n = in.readNBytes(block, 0, BLOCK);
            if (n == 0 && raw.size() == 0) {
                ended = true;
                return null;
            }
            if (n < BLOCK) {
                throw new EngineException(what + " ends inside a tar header (" + n + " of 512 bytes): the archive is cut short");
            }
            if (isZero(block)) {
                if (raw.size() > 0) {
                    throw new EngineException(what + ": tar extension header without an entry");
                }
                ended = true;
                return null;
            }
            checkChecksum(block);
            raw.write(block);
            char type = (char) block[156];
            long size = number(block, 124, 12);
            if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
                byte[] data = in.readNBytes((int) size);
                if (data.length < size) {
                    throw new EngineException(what + " ends inside a tar extension header");
                }
                raw.write(data);
                int pad = (int) ((BLOCK - size % BLOCK) % BLOCK);
                raw.write(in.readNBytes(pad));
                if (type == 'L') {
                    longName = cString(data, 0, data.length);
                } else if (type == 'K') {
                    longLink = cString(data, 0, data.length);
                } else if (type == 'x') {
                    for (String[] kv : pax(data)) {
                        switch (kv[0]) {
                            case "path" -> longName = kv[1];
                            case "linkpath" -> longLink = kv[1];
                            case "size" -> paxSize = Long.parseLong(kv[1]);
                            default -> {
                                // other pax keys (times, owners) do not matter to a restore
                            }
                        }
                    }
                }
                continue;
            }
            String name = longName;
            if (name == null) {
                name = cString(block, 0, 100);
                String magic = cString(block, 257, 6);
                if (magic.startsWith("ustar")) {
                    String prefix = cString(block, 345, 155);
                    if (!prefix.isEmpty()) {
                        name = prefix + "/" + name;
                    }
                }
            }
            while (name.endsWith("/")) {
                name = name.substring(0, name.length() - 1);
            }
            String link = longLink != null ? longLink : cString(block, 157, 100);
            if (paxSize != null) {
                size = paxSize;
            }
            int mode = (int) number(block, 100, 8);
            long mtime = number(block, 136, 12);
            TarEntry e = new TarEntry(name, type, size, mode, mtime, link.isEmpty() ? null : link, raw.toByteArray());
            if (e.isFile()) {
                remaining = size;
                padding = e.paddedSize() - size;
            } else if (size > 0 && type != TarEntry.DIRECTORY && type != TarEntry.SYMLINK) {
                remaining = size;
                padding = e.paddedSize() - size;
            }
            return e;
        }
    }

    /** Reads content of the current entry; -1 at its end. */
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining == 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) {
            throw new EngineException(what + " ends inside a file: the archive is cut short");
        }
        remaining -= n;
        return n;
    }

    /** Reads the padding after the current entry's content (it must have been read fully). */
    public int readPadding(byte[] b) throws IOException {
        if (remaining != 0) {
            throw new IllegalStateException("content not fully read");
        }
        int p = (int) padding;
        int n = in.readNBytes(b, 0, p);
        if (n < p) {
            throw new EngineException(what + " ends inside a file's padding: the archive is cut short");
        }
        padding = 0;
        return n;
    }

    /** Whatever follows the end-of-archive marker's first block (the second zero block, record padding). */
    public long drainTrailer(java.io.OutputStream out) throws IOException {
        return in.transferTo(out);
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            long s = in.skip(n);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new EngineException(what + " ends inside a file: the archive is cut short");
                }
                s = 1;
            }
            n -= s;
        }
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private void checkChecksum(byte[] block) {
        long stored = number(block, 148, 8);
        long sum = 0;
        for (int i = 0; i < BLOCK; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : (block[i] & 0xff);
        }
        if (sum != stored) {
            throw new EngineException(what + " is not a valid tar archive (header checksum mismatch)");
        }
    }

    static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** An octal field, or GNU base-256 when the high bit of the first byte is set. */
    static long number(byte[] b, int off, int len) {
        if ((b[off] & 0x80) != 0) {
            long v = b[off] & 0x7f;
            for (int i = off + 1; i < off + len; i++) {
                v = v << 8 | (b[i] & 0xff);
            }
            return v;
        }
        long v = 0;
        for (int i = off; i < off + len; i++) {
            int c = b[i];
            if (c == 0 || c == ' ') {
                if (v != 0 || i > off && b[i - 1] >= '0') {
                    break;
                }
                continue;
            }
            if (c < '0' || c > '7') {
                break;
            }
            v = v * 8 + (c - '0');
        }
        return v;
    }

    private static java.util.List<String[]> pax(byte[] data) {
        java.util.List<String[]> out = new java.util.ArrayList<>();
        int i = 0;
        while (i < data.length) {
            int sp = i;
            while (sp < data.length && data[sp] != ' ') {
                sp++;
            }
            if (sp >= data.length) {
                break;
            }
            int len = Integer.parseInt(new String(data, i, sp - i, StandardCharsets.US_ASCII));
            if (len <= 0) {
                break;
            }
            String rec = new String(data, sp + 1, i + len - sp - 2, StandardCharsets.UTF_8);
            int eq = rec.indexOf('=');
            if (eq > 0) {
                out.add(new String[]{rec.substring(0, eq), rec.substring(eq + 1)});
            }
            i += len;
        }
        return out;
    }
}
