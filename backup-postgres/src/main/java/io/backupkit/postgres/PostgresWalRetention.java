package io.backupkit.postgres;

import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import io.backupkit.spi.LogRetention;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * WAL retention: for every cluster in the WAL archive, keeps the WAL from the start of its oldest
 * retained physical base backup onwards (on every timeline) and removes what is older. A cluster
 * with no retained physical snapshot keeps all its WAL (nothing says which WAL is unneeded).
 * Reads the physical snapshot metadata {@code kind = "physical"}, {@code systemId},
 * {@code startLsn} (docs/repository-format.md, "Physical snapshots"). Registered for {@link java.util.ServiceLoader}.
 */
public final class PostgresWalRetention implements LogRetention {

    @Override
    public String engine() {
        return PostgresEngine.NAME;
    }

    @Override
    public Result apply(Repository repository, List<Snapshot> retained, boolean dryRun) {
        WalArchive wal = WalArchive.of(repository);
        Map<Long, Lsn> oldestStart = new HashMap<>();
        for (Snapshot s : retained) {
            if (!PostgresEngine.NAME.equals(s.engine()) || !"physical".equals(String.valueOf(s.metadata().get("kind")))) {
                continue;
            }
            Object sysid = s.metadata().getOrDefault("systemId", s.metadata().get("systemIdentifier"));
            Object start = s.metadata().get("startLsn");
            if (sysid == null || start == null) {
                continue;
            }
            oldestStart.merge(Long.parseUnsignedLong(sysid.toString()), Lsn.parse(start.toString()), Lsn::min);
        }
        List<String> objects = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long bytes = 0;
        for (long sysid : wal.systemIds()) {
            Lsn keepFrom = oldestStart.get(sysid);
            if (keepFrom == null) {
                notes.add("cluster " + Long.toUnsignedString(sysid) + ": no retained base backup; its WAL is kept");
                continue;
            }
            WalArchive.ExpireResult r = wal.expire(sysid, keepFrom, dryRun);
            for (String f : r.files()) {
                objects.add(WalObjectNames.NAMESPACE + "/" + WalObjectNames.of(sysid, f));
            }
            bytes += r.bytesFreed();
            notes.add("cluster " + Long.toUnsignedString(sysid) + ": WAL kept from " + keepFrom + " (" + r.files().size()
                    + " files " + (dryRun ? "would be " : "") + "removed)");
        }
        return new Result(objects, bytes, notes);
    }
}
