package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

import java.util.Locale;

/**
 * A PostgreSQL WAL location ({@code pg_lsn}): 64 bits written as two hex halves, {@code 16/B374D848}.
 * Compares as an unsigned number.
 */
public record Lsn(long value) implements Comparable<Lsn> {
    public static final Lsn ZERO = new Lsn(0);

    /** Parses {@code X/Y} (hex halves, as PostgreSQL prints them). */
    public static Lsn parse(String text) {
        if (text == null) {
            throw new ConfigurationException("no LSN given");
        }
        String t = text.strip();
        int slash = t.indexOf('/');
        if (slash <= 0 || slash == t.length() - 1 || slash > 8 || t.length() - slash - 1 > 8) {
            throw new ConfigurationException("'" + text + "' is not an LSN (expected two hex numbers like 0/16B3748)");
        }
        try {
            long hi = Long.parseLong(t.substring(0, slash), 16);
            long lo = Long.parseLong(t.substring(slash + 1), 16);
            return new Lsn(hi << 32 | lo);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("'" + text + "' is not an LSN (expected two hex numbers like 0/16B3748)");
        }
    }

    /** The WAL segment number this location falls in. */
    public long segment(long walSegmentSize) {
        return Long.divideUnsigned(value, walSegmentSize);
    }

    /**
     * The segment that holds the last byte before this location (PostgreSQL's XLByteToPrevSeg): the
     * segment a backup ending exactly at a segment boundary needs last.
     */
    public long previousSegment(long walSegmentSize) {
        return Long.divideUnsigned(value - 1, walSegmentSize);
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    public boolean isAfter(Lsn o) {
        return compareTo(o) > 0;
    }

    public boolean isBefore(Lsn o) {
        return compareTo(o) < 0;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%X/%X", value >>> 32, value & 0xFFFFFFFFL);
    }
}
