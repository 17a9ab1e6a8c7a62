package io.backupkit.postgres.internal.wal;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.Lsn;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * PostgreSQL's WAL file names: segments {@code TTTTTTTTXXXXXXXXYYYYYYYY} (timeline, then the
 * segment number split at 2^32 / segment size), timeline history files {@code TTTTTTTT.history},
 * backup history files {@code <segment>.XXXXXXXX.backup} and the last segment of a timeline that a
 * promotion left behind, {@code <segment>.partial}. Also the names of backupkit's own partial
 * segments from streaming, {@code <segment>.partial.<8 hex digits of valid bytes>}.
 */
public final class WalNames {
    public static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    public static final Pattern HISTORY = Pattern.compile("[0-9A-F]{8}\\.history");
    public static final Pattern BACKUP_LABEL = Pattern.compile("[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup");
    public static final Pattern PROMOTION_PARTIAL = Pattern.compile("[0-9A-F]{24}\\.partial");
    public static final Pattern STREAM_PARTIAL = Pattern.compile("([0-9A-F]{24})\\.partial\\.([0-9A-F]{8})");

    /** What a WAL file name is. */
    public enum Kind { SEGMENT, HISTORY, BACKUP_LABEL, PROMOTION_PARTIAL, STREAM_PARTIAL }

    private WalNames() {
    }

    /** The kind of {@code name}, or null when PostgreSQL would not archive a file of that name. */
    public static Kind kind(String name) {
        if (SEGMENT.matcher(name).matches()) {
            return Kind.SEGMENT;
        }
        if (HISTORY.matcher(name).matches()) {
            return Kind.HISTORY;
        }
        if (BACKUP_LABEL.matcher(name).matches()) {
            return Kind.BACKUP_LABEL;
        }
        if (PROMOTION_PARTIAL.matcher(name).matches()) {
            return Kind.PROMOTION_PARTIAL;
        }
        if (STREAM_PARTIAL.matcher(name).matches()) {
            return Kind.STREAM_PARTIAL;
        }
        return null;
    }

    /** The timeline a WAL file name belongs to (its first 8 hex digits). */
    public static int timeline(String name) {
        return (int) Long.parseLong(name.substring(0, 8), 16);
    }

    public static String timelineHex(int timeline) {
        return String.format("%08X", timeline);
    }

    public static String historyName(int timeline) {
        return timelineHex(timeline) + ".history";
    }

    /** Segments per "xlogid" (the middle 8 digits of a name) for a segment size. */
    static long segmentsPerId(long segmentSize) {
        return 0x100000000L / segmentSize;
    }

    public static String segmentName(int timeline, long segmentNumber, long segmentSize) {
        long perId = segmentsPerId(segmentSize);
        return String.format("%08X%08X%08X", timeline, segmentNumber / perId, segmentNumber % perId);
    }

    /** The segment number of a segment name (timeline ignored). */
    public static long segmentNumber(String segmentName, long segmentSize) {
        long hi = Long.parseLong(segmentName.substring(8, 16), 16);
        long lo = Long.parseLong(segmentName.substring(16, 24), 16);
        long perId = segmentsPerId(segmentSize);
        if (lo >= perId) {
            throw new ConfigurationException("'" + segmentName + "' is not a WAL segment name for " + segmentSize + "-byte segments");
        }
        return hi * perId + lo;
    }

    public static Lsn segmentStart(String segmentName, long segmentSize) {
        return new Lsn(segmentNumber(segmentName, segmentSize) * segmentSize);
    }

    /** The name of the segment that holds {@code lsn} on {@code timeline}. */
    public static String segmentOf(int timeline, Lsn lsn, long segmentSize) {
        return segmentName(timeline, lsn.segmentNumber(segmentSize), segmentSize);
    }

    /** A stream partial's name: the segment plus how many bytes from its start are valid. */
    public static String streamPartialName(String segmentName, long validBytes) {
        return segmentName + ".partial." + String.format("%08X", validBytes);
    }

    /** Whether {@code size} is a valid {@code wal_segment_size}: a power of two from 1 MiB to 1 GiB. */
    public static boolean validSegmentSize(long size) {
        return size >= 1024 * 1024 && size <= 1024L * 1024 * 1024 && Long.bitCount(size) == 1;
    }

    public static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
