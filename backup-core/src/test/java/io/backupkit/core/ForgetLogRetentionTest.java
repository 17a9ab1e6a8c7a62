package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.ForgetManager;
import io.backupkit.ForgetResult;
import io.backupkit.LocalStorage;
import io.backupkit.LogArchive;
import io.backupkit.LogObject;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPolicy;
import io.backupkit.Snapshot;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.LogRetention;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forget runs the engines' log retention ({@link LogRetention}) with the snapshots that stay; prune leaves
 * everything outside data/ and index/ (records, jobs, logs, key slots) alone. The engine here is a small
 * real one: each snapshot records the log position it needs from, and its retention deletes the log objects
 * (real {@link LogArchive} objects) before the oldest such position that stays.
 */
class ForgetLogRetentionTest {
    private static final String ENGINE = "positions";

    @TempDir
    Path dir;

    /** A backup needing the logs from {@code position} on. */
    private static String backup(Repository repo, int position) {
        BackupSource source = new BackupSource() {
            @Override
            public String engine() {
                return ENGINE;
            }

            @Override
            public String describe() {
                return "positions db";
            }

            @Override
            public void backup(BackupContext context) {
                context.putMetadata("from", position);
                try (OutputStream out = context.newStream("data")) {
                    RandomData.stream(position, 512 * 1024).transferTo(out);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        return BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup().snapshotId();
    }

    /** Retention of the "positions" engine: logs named by 8-digit position under wal/test/. */
    static final class PositionRetention implements LogRetention {
        final List<List<Integer>> calls = new ArrayList<>();

        @Override
        public String engine() {
            return ENGINE;
        }

        @Override
        public Result apply(Repository repository, List<Snapshot> retained, boolean dryRun) {
            List<Integer> froms = retained.stream().filter(s -> ENGINE.equals(s.engine()))
                    .map(s -> ((Number) s.metadata().get("from")).intValue()).sorted().toList();
            calls.add(froms);
            if (froms.isEmpty()) {
                return new Result(List.of(), 0, List.of("no snapshot stays; all logs kept"));
            }
            LogArchive logs = LogArchive.open(repository, "wal");
            List<LogObject> old = logs.list("test/").stream()
                    .filter(o -> Integer.parseInt(o.name().substring("test/".length())) < froms.get(0)).toList();
            if (!dryRun) {
                logs.delete(old.stream().map(LogObject::name).toList());
            }
            return new Result(old.stream().map(o -> "wal/" + o.name()).toList(), old.stream().mapToLong(LogObject::storedSize).sum(),
                    List.of("logs kept from " + froms.get(0)));
        }
    }

    private Repository create() {
        return Repos.encrypted(LocalStorage.of(dir.resolve("repo"))).packSize(1024 * 1024).create();
    }

    private static byte[] bytes(long seed, int n) {
        try {
            return RandomData.stream(seed, n).readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, String> contents(Repository repo, String prefix) {
        Map<String, String> out = new TreeMap<>();
        for (ObjectInfo o : repo.storage().list(prefix)) {
            out.put(o.name(), java.util.HexFormat.of().formatHex(sha256(repo.storage().readAll(o.name()))));
        }
        return out;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void forget_expiresTheLogsOlderThanTheOldestRemainingSnapshot_dryRunListsThemOnly() {
        try (Repository repo = create()) {
            LogArchive logs = LogArchive.open(repo, "wal");
            for (int i = 0; i < 40; i++) {
                logs.put("test/%08d".formatted(i), ("log " + i).repeat(100).getBytes(StandardCharsets.UTF_8), Map.of());
            }
            String oldest = backup(repo, 10);
            String middle = backup(repo, 20);
            String newest = backup(repo, 30);
            PositionRetention retention = new PositionRetention();
            RetentionPolicy keepTwo = RetentionPolicy.builder().keepLast(2).build();

            ForgetResult dry = ForgetManager.builder().repository(repo).policy(keepTwo).dryRun(true)
                    .logRetentions(List.of(retention)).build().forget();
            assertEquals(List.of(20, 30), retention.calls.get(0), "called with the snapshots that would stay");
            assertEquals(1, dry.logs().size());
            assertEquals(20, dry.logObjectsExpired(), dry.toString());
            assertTrue(dry.logBytesExpired() > 0);
            assertEquals(40, logs.list("test/").size(), "a dry run deletes no log");
            assertEquals(3, repo.snapshots().list().size());

            ForgetResult r = ForgetManager.builder().repository(repo).policy(keepTwo).logRetentions(List.of(retention)).build().forget();
            assertEquals(List.of(oldest), r.removed().stream().map(s -> s.id()).toList());
            assertEquals(dry.logs(), r.logs(), "the dry run said exactly what goes");
            assertEquals("wal/test/00000000", r.logs().get(0).objects().get(0));
            assertEquals(List.of("logs kept from 20"), r.logs().get(0).notes());
            List<String> left = logs.list("test/").stream().map(LogObject::name).toList();
            assertEquals(20, left.size());
            assertEquals("test/00000020", left.get(0));
            assertEquals(List.of(middle, newest), repo.snapshots().list().stream().map(Snapshot::id).toList());
        }
    }

    @Test
    void logRetentionIsPutOff_whileABackupRunsThatStartedBeforeTheOldestRemainingSnapshot() {
        try (Repository repo = create()) {
            LogArchive logs = LogArchive.open(repo, "wal");
            for (int i = 0; i < 30; i++) {
                logs.put("test/%08d".formatted(i), new byte[] {(byte) i}, Map.of());
            }
            backup(repo, 10);
            backup(repo, 20);
            PositionRetention retention = new PositionRetention();
            // a backup that started before the snapshot that stays (its lock is from now, within the skew margin of it)
            try (LockManager.Lock running = ((DefaultRepository) repo).locks().acquire(false, "backup")) {
                ForgetResult r = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build())
                        .logRetentions(List.of(retention)).build().forget();
                assertEquals(1, r.removed().size(), "the snapshot is forgotten");
                assertEquals(0, r.logObjectsExpired());
                assertTrue(r.logs().get(0).notes().get(0).startsWith("put off: backup on "), r.logs().toString());
                assertTrue(retention.calls.isEmpty());
                assertEquals(30, logs.list("test/").size());
            }
            ForgetResult later = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build())
                    .logRetentions(List.of(retention)).build().forget();
            assertEquals(20, later.logObjectsExpired(), "the next forget expires them: " + later.logs());
        }
    }

    @Test
    void logRetentionOff_andEmptyGroups_keepAllLogs() {
        try (Repository repo = create()) {
            LogArchive logs = LogArchive.open(repo, "wal");
            for (int i = 0; i < 5; i++) {
                logs.put("test/%08d".formatted(i), new byte[] {(byte) i}, Map.of());
            }
            backup(repo, 3);
            backup(repo, 4);
            PositionRetention retention = new PositionRetention();
            ForgetResult off = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build())
                    .logRetentions(List.of(retention)).logRetention(false).build().forget();
            assertTrue(off.logs().isEmpty());
            assertEquals(5, logs.list("test/").size());
            ForgetResult all = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("none", "x").build())
                    .allowRemoveAll(true).logRetentions(List.of(retention)).build().forget();
            assertEquals(List.of(List.of()), retention.calls, "called with no snapshot of its engine");
            assertEquals(0, all.logObjectsExpired());
            assertEquals(5, logs.list("test/").size(), "no snapshot says which logs are unneeded: all kept");
        }
    }

    @Test
    void serviceLoader_findsNoRetentionInCore() {
        try (Repository repo = create()) {
            backup(repo, 1);
            ForgetResult r = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build().forget();
            assertTrue(r.logs().isEmpty(), "backup-core registers no log retention: " + r.logs());
        }
    }

    @Test
    void prune_leavesRecordsJobsLogsAndKeySlotsAlone() {
        try (Repository repo = create()) {
            LogArchive.open(repo, "wal").put("1234/00000001/000000010000000000000001", bytes(1, 70_000), Map.of());
            LogArchive.open(repo, "binlog").put("server-1/binlog.000001", bytes(2, 50_000), Map.of());
            repo.records().create("jobs/nightly/last", "{\"ok\":true}".getBytes(StandardCharsets.UTF_8));
            repo.records().create("drills/2026-11-30", "{}".getBytes(StandardCharsets.UTF_8));
            repo.storage().putIfAbsent("jobs/nightly.lease", io.backupkit.spi.Payload.of(bytes(3, 100)));
            backup(repo, 1);
            backup(repo, 2);
            List<String> outside = List.of("records/", "jobs/", "wal/", "binlog/", "keys/");
            Map<String, Map<String, String>> before = outside.stream().collect(Collectors.toMap(p -> p, p -> contents(repo, p)));
            outside.forEach(p -> assertTrue(!before.get(p).isEmpty(), p + " has objects for this test"));
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("none", "x").build()).allowRemoveAll(true)
                    .build().forget();
            PruneResult r = PruneTest.prune(repo).build().prune();
            assertTrue(r.packsDeleted() > 0, r.toString());
            assertEquals(0, repo.storage().list("data/").size());
            for (String p : outside) {
                assertEquals(before.get(p), contents(repo, p), "prune changed nothing under " + p);
            }
        }
    }
}
