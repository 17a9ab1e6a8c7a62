package io.backupkit.postgres.internal.wal;

/**
 * Where PostgreSQL WAL lives inside the {@code wal} log archive (docs/repository-format.md):
 * <pre>
 * wal/clusters/&lt;system-id&gt;                      the cluster record: segment and block size
 * wal/&lt;system-id&gt;/history/&lt;TLI&gt;.history         timeline history files
 * wal/&lt;system-id&gt;/&lt;TLI&gt;/&lt;segment&gt;               segments (also .partial, .backup, and
 * wal/&lt;system-id&gt;/&lt;TLI&gt;/&lt;segment&gt;.partial.&lt;len&gt;  partial segments written while streaming)
 * </pre>
 * System ids are unsigned decimal, as PostgreSQL prints them; timelines 8 upper-case hex digits.
 */
public final class WalObjectNames {
    public static final String NAMESPACE = "wal";
    public static final String CLUSTERS = "clusters/";

    private WalObjectNames() {
    }

    public static String sysid(long systemId) {
        return Long.toUnsignedString(systemId);
    }

    public static String cluster(long systemId) {
        return CLUSTERS + sysid(systemId);
    }

    public static String clusterPrefix(long systemId) {
        return sysid(systemId) + "/";
    }

    public static String timelinePrefix(long systemId, int timeline) {
        return sysid(systemId) + "/" + WalNames.timelineHex(timeline) + "/";
    }

    public static String historyPrefix(long systemId) {
        return sysid(systemId) + "/history/";
    }

    /** The object of a WAL file name (segment, history, backup label, partial). */
    public static String of(long systemId, String walFileName) {
        if (WalNames.HISTORY.matcher(walFileName).matches()) {
            return historyPrefix(systemId) + walFileName;
        }
        return sysid(systemId) + "/" + walFileName.substring(0, 8) + "/" + walFileName;
    }
}
