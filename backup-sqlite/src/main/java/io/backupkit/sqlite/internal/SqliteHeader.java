package io.backupkit.sqlite.internal;

import io.backupkit.ConfigurationException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The 100-byte header at the start of every SQLite database file
 * (https://www.sqlite.org/fileformat.html#the_database_header).
 *
 * @param pageSize  bytes per page (512 … 65536)
 * @param pageCount the "in-header database size" in pages (valid when {@link #pageCountValid})
 * @param wal       read/write versions are 2: the database is in WAL mode
 */
public record SqliteHeader(int pageSize, long pageCount, boolean pageCountValid, boolean wal) {
    public static final int SIZE = 100;
    private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    /** Whether {@code header} (at least 16 bytes) starts with the SQLite magic string. */
    public static boolean hasMagic(byte[] header) {
        return header.length >= MAGIC.length && Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    public static SqliteHeader parse(byte[] h, String what) {
        if (h.length < SIZE || !hasMagic(h)) {
            throw notADatabase(what);
        }
        int raw = ((h[16] & 0xff) << 8) | (h[17] & 0xff);
        int pageSize = raw == 1 ? 65536 : raw;
        if (pageSize < 512 || pageSize > 65536 || Integer.bitCount(pageSize) != 1) {
            throw new ConfigurationException(what + " has an SQLite header with an invalid page size " + raw + "; the file is damaged");
        }
        long changeCounter = u32(h, 24);
        long pageCount = u32(h, 28);
        long validFor = u32(h, 92);
        boolean wal = h[18] == 2 && h[19] == 2;
        return new SqliteHeader(pageSize, pageCount, pageCount > 0 && validFor == changeCounter, wal);
    }

    /** Reads the header of {@code file}; an empty file is an empty database (page size 0). */
    public static SqliteHeader read(Path file) {
        byte[] h;
        try (InputStream in = Files.newInputStream(file)) {
            h = in.readNBytes(SIZE);
        } catch (IOException e) {
            throw new ConfigurationException("cannot read SQLite database " + file + ": " + e.getMessage(), e);
        }
        if (h.length == 0) {
            return new SqliteHeader(0, 0, true, false);
        }
        return parse(h, file.toString());
    }

    public static ConfigurationException notADatabase(String what) {
        return new ConfigurationException(what + " is not an SQLite database: it does not start with the header \"SQLite format 3\" "
                + "(an encrypted database, another file format, or the wrong path); check the path");
    }

    private static long u32(byte[] b, int off) {
        return ((long) (b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }
}
