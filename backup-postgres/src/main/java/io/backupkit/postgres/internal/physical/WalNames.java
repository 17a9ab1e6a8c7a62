package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

import java.util.Locale;
import java.util.regex.Pattern;

/** WAL file names: {@code TTTTTTTTXXXXXXXXYYYYYYYY} segments and {@code TTTTTTTT.history} files. */
public final class WalNames {
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern HISTORY = Pattern.compile("[0-9A-F]{8}\\.history");

    private WalNames() {
    }

    /** The segment file name of segment number {@code segNo} on {@code timeline}. */
    public static String segment(int timeline, long segNo, long walSegmentSize) {
        long perId = segmentsPerXLogId(walSegmentSize);
        return String.format(Locale.ROOT, "%08X%08X%08X", timeline, segNo / perId, segNo % perId);
    }

    /** The segment file that holds {@code lsn} on {@code timeline}. */
    public static String segmentOf(int timeline, Lsn lsn, long walSegmentSize) {
        return segment(timeline, lsn.segment(walSegmentSize), walSegmentSize);
    }

    public static boolean isSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    public static boolean isHistory(String name) {
        return HISTORY.matcher(name).matches();
    }

    public static String history(int timeline) {
        return String.format(Locale.ROOT, "%08X.history", timeline);
    }

    public static int timelineOf(String name) {
        if (!isSegment(name) && !isHistory(name) && !(name.length() > 24 && isSegment(name.substring(0, 24)))) {
            throw new ConfigurationException("'" + name + "' is not a WAL file name");
        }
        return (int) Long.parseLong(name.substring(0, 8), 16);
    }

    /** The segment number of a segment file name. */
    public static long segmentNumber(String name, long walSegmentSize) {
        if (name.length() < 24 || !isSegment(name.substring(0, 24))) {
            throw new ConfigurationException("'" + name + "' is not a WAL segment name");
        }
        long hi = Long.parseLong(name.substring(8, 16), 16);
        long lo = Long.parseLong(name.substring(16, 24), 16);
        return hi * segmentsPerXLogId(walSegmentSize) + lo;
    }

    /** The first LSN of a segment. */
    public static Lsn startOf(long segNo, long walSegmentSize) {
        return new Lsn(segNo * walSegmentSize);
    }

    private static long segmentsPerXLogId(long walSegmentSize) {
        return 0x100000000L / walSegmentSize;
    }
}
