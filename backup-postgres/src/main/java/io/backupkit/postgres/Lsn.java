package io.backupkit.postgres;

import io.backupkit.ConfigurationException;

/**
 * A PostgreSQL write-ahead log position (an {@code XLogRecPtr}), written {@code 16/B374D848} as
 * PostgreSQL prints it. Compares as an unsigned 64-bit number.
 *
 * <pre>{@code
 * Lsn start = Lsn.parse("0/3000028");
 * long segment = start.segmentNumber(16 * 1024 * 1024);   // 3
 * }</pre>
 *
 * @param value the position as an unsigned 64-bit number
 */
public record Lsn(long value) implements Comparable<Lsn> {
    /** The invalid position {@code 0/0}. */
    public static final Lsn INVALID = new Lsn(0);

    /**
     * Parses {@code X/Y} (two hexadecimal halves of up to 8 digits each).
     *
     * @throws ConfigurationException when {@code text} is not an LSN
     */
    public static Lsn parse(String text) {
        if (text != null) {
            int slash = text.indexOf('/');
            if (slash > 0 && slash < 9 && text.length() - slash - 1 > 0 && text.length() - slash - 1 <= 8) {
                try {
                    long hi = Long.parseLong(text.substring(0, slash), 16);
                    long lo = Long.parseLong(text.substring(slash + 1), 16);
                    return new Lsn((hi << 32) | lo);
                } catch (NumberFormatException e) {
                    // fall through to the error below
                }
            }
        }
        throw new ConfigurationException("'" + text + "' is not a WAL position (LSN); expected two hexadecimal halves like 0/3000028");
    }

    /** The segment holding this position, for a {@code wal_segment_size} of {@code segmentSize} bytes. */
    public long segmentNumber(long segmentSize) {
        return Long.divideUnsigned(value, segmentSize);
    }

    /** The start of the segment holding this position. */
    public Lsn segmentStart(long segmentSize) {
        return new Lsn(value - Long.remainderUnsigned(value, segmentSize));
    }

    /** Offset of this position inside its segment. */
    public long segmentOffset(long segmentSize) {
        return Long.remainderUnsigned(value, segmentSize);
    }

    public Lsn plus(long bytes) {
        return new Lsn(value + bytes);
    }

    /** Bytes from {@code earlier} to this position. */
    public long minus(Lsn earlier) {
        return value - earlier.value;
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    public boolean isBefore(Lsn other) {
        return compareTo(other) < 0;
    }

    public static Lsn max(Lsn a, Lsn b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    public static Lsn min(Lsn a, Lsn b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    /** {@code X/Y} in upper-case hexadecimal, as PostgreSQL prints it. */
    @Override
    public String toString() {
        return String.format("%X/%X", value >>> 32, value & 0xffffffffL);
    }
}
