package io.backupkit.mysql;

import io.backupkit.ConfigurationException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A position in a server's binary log: a file name and a byte offset in it, as
 * {@code SHOW MASTER STATUS} prints them. Ordered by file sequence number, then offset.
 *
 * <pre>{@code
 * BinlogPosition p = BinlogPosition.parse("binlog.000042:1337");
 * }</pre>
 *
 * @param file     binary log file name, e.g. {@code binlog.000042}
 * @param position byte offset of the next event in that file
 */
public record BinlogPosition(String file, long position) implements Comparable<BinlogPosition> {
    private static final Pattern FILE = Pattern.compile("^(.+)\\.(\\d{6,})$");

    public BinlogPosition {
        if (file == null || !FILE.matcher(file).matches()) {
            throw new ConfigurationException("not a binary log file name: '" + file + "' (expected e.g. binlog.000042)");
        }
        if (position < 4) {
            throw new ConfigurationException("a binary log position is at least 4 (after the file's magic number), was " + position);
        }
    }

    /** Parses {@code FILE:POSITION}, e.g. {@code binlog.000042:1337}. */
    public static BinlogPosition parse(String text) {
        int colon = text == null ? -1 : text.lastIndexOf(':');
        if (colon < 0) {
            throw new ConfigurationException("a binary log position is FILE:OFFSET, e.g. binlog.000042:1337; got '" + text + "'");
        }
        try {
            return new BinlogPosition(text.substring(0, colon), Long.parseLong(text.substring(colon + 1).trim()));
        } catch (NumberFormatException e) {
            throw new ConfigurationException("a binary log position is FILE:OFFSET, e.g. binlog.000042:1337; got '" + text + "'");
        }
    }

    /** The file's sequence number (42 for binlog.000042). */
    public long sequence() {
        return sequenceOf(file);
    }

    /** The base name (binlog for binlog.000042). */
    public String baseName() {
        Matcher m = FILE.matcher(file);
        m.matches();
        return m.group(1);
    }

    /** The sequence number of a binary log file name, or -1 when it is not one. */
    public static long sequenceOf(String fileName) {
        Matcher m = FILE.matcher(fileName);
        return m.matches() ? Long.parseLong(m.group(2)) : -1;
    }

    /** The name of the file with sequence number {@code sequence} and the same base name and width as {@code fileName}. */
    public static String fileWithSequence(String fileName, long sequence) {
        Matcher m = FILE.matcher(fileName);
        if (!m.matches()) {
            throw new ConfigurationException("not a binary log file name: '" + fileName + "'");
        }
        String digits = Long.toString(sequence);
        int width = m.group(2).length();
        return m.group(1) + "." + "0".repeat(Math.max(0, width - digits.length())) + digits;
    }

    @Override
    public int compareTo(BinlogPosition o) {
        int c = Long.compare(sequence(), o.sequence());
        return c != 0 ? c : Long.compare(position, o.position);
    }

    @Override
    public String toString() {
        return file + ":" + position;
    }
}
