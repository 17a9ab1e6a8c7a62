package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.Lsn;
import io.backupkit.Snapshot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manifest metadata of a physical snapshot (keys documented in docs/repository-format.md, used by
 * restore, verification, {@code list}/{@code show} and WAL retention).
 */
public record PhysicalMetadata(String method, String systemIdentifier, int timeline, Lsn startLsn, Lsn stopLsn, Lsn checkpointLsn,
                               String startWal, String stopWal, Instant startTime, Instant stopTime, String pgVersion,
                               int pgVersionNum, long walSegmentSize, List<ClusterInfo.Tablespace> tablespaces, boolean walIncluded,
                               String superuser, int blockSize, String backupLabel, long files, long dataBytes) {
    public static final String FORMAT = "backupkit-postgres-physical/1";
    public static final String KIND = "physical";
    public static final String METHOD_PG_BASEBACKUP = "pg_basebackup";
    public static final String METHOD_LOW_LEVEL = "low-level";

    public static boolean isPhysical(Snapshot s) {
        return KIND.equals(s.metadata().get("kind"));
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("kind", KIND);
        m.put("method", method);
        m.put("systemId", systemIdentifier);
        m.put("timeline", timeline);
        m.put("startLsn", startLsn.toString());
        m.put("stopLsn", stopLsn.toString());
        m.put("checkpointLsn", checkpointLsn.toString());
        m.put("startWal", startWal);
        m.put("stopWal", stopWal);
        m.put("startTime", startTime == null ? null : startTime.toString());
        m.put("stopTime", stopTime.toString());
        m.put("pgVersion", pgVersion);
        m.put("pgVersionNum", pgVersionNum);
        m.put("walSegmentSize", walSegmentSize);
        m.put("tablespaces", tablespaces.stream().map(ClusterInfo.Tablespace::toMap).toList());
        m.put("walIncluded", walIncluded);
        m.put("superuser", superuser);
        m.put("blockSize", blockSize);
        m.put("backupLabel", backupLabel);
        m.put("files", files);
        m.put("dataBytes", dataBytes);
        return m;
    }

    /** Reads the metadata of a physical snapshot; fails for a logical one. */
    public static PhysicalMetadata of(Snapshot s) {
        if (!isPhysical(s)) {
            throw new io.backupkit.ConfigurationException("snapshot " + s.shortId() + " is a logical backup (pg_dump), "
                    + "not a physical base backup; restore it into a database instead of a data directory");
        }
        Map<String, Object> m = s.metadata();
        List<ClusterInfo.Tablespace> ts = new ArrayList<>();
        Object list = m.get("tablespaces");
        if (list instanceof List<?> l) {
            for (Object o : l) {
                Map<?, ?> t = (Map<?, ?>) o;
                ts.add(new ClusterInfo.Tablespace(((Number) t.get("oid")).longValue(), (String) t.get("name"), (String) t.get("location")));
            }
        }
        return new PhysicalMetadata((String) m.get("method"), (String) m.get("systemId"), ((Number) m.get("timeline")).intValue(),
                Lsn.parse((String) m.get("startLsn")), Lsn.parse((String) m.get("stopLsn")), Lsn.parse((String) m.get("checkpointLsn")),
                (String) m.get("startWal"), (String) m.get("stopWal"),
                m.get("startTime") == null ? null : Instant.parse((String) m.get("startTime")), Instant.parse((String) m.get("stopTime")),
                (String) m.get("pgVersion"), ((Number) m.get("pgVersionNum")).intValue(), ((Number) m.get("walSegmentSize")).longValue(),
                List.copyOf(ts), Boolean.TRUE.equals(m.get("walIncluded")), (String) m.get("superuser"),
                m.get("blockSize") == null ? 0 : ((Number) m.get("blockSize")).intValue(), (String) m.get("backupLabel"),
                m.get("files") == null ? 0 : ((Number) m.get("files")).longValue(),
                m.get("dataBytes") == null ? 0 : ((Number) m.get("dataBytes")).longValue());
    }

    /**
     * The last segment a backup ending at {@code stop} needs: the one holding the byte before it
     * (PostgreSQL's XLByteToPrevSeg), so a backup ending exactly on a segment boundary needs no more.
     */
    public static long lastSegment(Lsn stop, long walSegmentSize) {
        return new Lsn(stop.value() - 1).segmentNumber(walSegmentSize);
    }

    /** Fixed blocks of {@code blockSize}, or content-defined chunks for 0. */
    public static io.backupkit.spi.Chunking chunking(int blockSize) {
        return blockSize == 0 ? io.backupkit.spi.Chunking.contentDefined() : io.backupkit.spi.Chunking.fixed(blockSize);
    }

    public int majorVersion() {
        return pgVersionNum / 10000;
    }
}
