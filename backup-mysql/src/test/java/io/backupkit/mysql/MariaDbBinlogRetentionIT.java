package io.backupkit.mysql;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.spi.LogRetention;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Binary log retention against a real MariaDB and its archived binary logs: after forgetting
 * snapshots, the files before the oldest kept snapshot's coordinates go, and a point-in-time restore
 * from every kept snapshot to the latest archived event still gives the server's state.
 */
class MariaDbBinlogRetentionIT {
    private static EphemeralMariaDb db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        db = EphemeralMariaDb.start();
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    private Snapshot backup(Repository repo) {
        return BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, "ret").build()).build().backup().snapshot();
    }

    private List<String> archived(Repository repo, String source) {
        return BinlogArchive.of(repo).files(source).stream().map(BinlogFile::name).toList();
    }

    private String rows(String database) {
        return String.join(",", db.query(database, "SELECT v FROM t ORDER BY id").stream().map(r -> r.get(0)).toList());
    }

    private void restoreToLatest(Repository repo, Snapshot from, String into) {
        RestoreManager.builder().repository(repo).snapshot(from.id())
                .target(MySqlTestSupport.target(db, into).recoverTo(BinlogRecoveryTarget.latest()).build()).build().restore();
    }

    @Test
    void filesBeforeTheOldestKeptSnapshotExpire_pointInTimeRestoresFromKeptSnapshotsStillWork() {
        db.createDatabase("ret");
        db.execute("ret", "CREATE TABLE t (id int PRIMARY KEY, v varchar(20)); INSERT INTO t VALUES (0, 'a')");
        try (Repository repo = Repository.builder().location(dir.resolve("repo").toString()).password("ret".toCharArray()).openOrCreate()) {
            Snapshot first;
            Snapshot second;
            String source;
            try (BinlogReceiver receiver = BinlogReceiver.builder().url(db.uri(null)).user(db.user()).password(db.password().toCharArray())
                    .repository(repo).partialInterval(Duration.ofMillis(200)).build().start()) {
                source = receiver.source();
                db.execute(null, "FLUSH BINARY LOGS");
                db.execute("ret", "INSERT INTO t VALUES (1, 'b')");
                db.execute(null, "FLUSH BINARY LOGS");
                first = backup(repo);
                db.execute("ret", "INSERT INTO t VALUES (2, 'c')");
                db.execute(null, "FLUSH BINARY LOGS");
                db.execute("ret", "UPDATE t SET v = 'a2' WHERE id = 0");
                db.execute(null, "FLUSH BINARY LOGS");
                second = backup(repo);
                db.execute("ret", "INSERT INTO t VALUES (3, 'd')");
                db.execute(null, "FLUSH BINARY LOGS");
                db.execute("ret", "DELETE FROM t WHERE id = 1");
                receiver.awaitCurrentPosition(Duration.ofSeconds(120));
            }
            BinlogPosition p1 = MySqlBinlogRetention.coordinates(first);
            BinlogPosition p2 = MySqlBinlogRetention.coordinates(second);
            assertTrue(p1.sequence() >= 3 && p2.sequence() == p1.sequence() + 2, p1 + " " + p2);
            List<String> all = archived(repo, source);
            assertTrue(all.contains(BinlogPosition.fileWithSequence(p1.file(), p1.sequence() - 1)), all.toString());

            LogRetention retention = ServiceLoader.load(LogRetention.class).stream().map(ServiceLoader.Provider::get)
                    .filter(r -> r.engine().equals("mysql")).findFirst().orElseThrow();

            // nothing retained: everything stays
            assertEquals(List.of(), retention.apply(repo, List.of(), false).objects());
            assertEquals(all, archived(repo, source));

            // both kept: files before the first snapshot's file go, the rest stays
            LogRetention.Result both = retention.apply(repo, List.of(second, first), false);
            List<String> left = archived(repo, source);
            assertFalse(both.objects().isEmpty());
            assertEquals(all.stream().filter(f -> BinlogPosition.sequenceOf(f) >= p1.sequence()).toList(), left);
            assertTrue(both.objects().stream().allMatch(o -> o.startsWith("binlog/" + source + "/")
                    && BinlogPosition.sequenceOf(o.replaceAll("^.*/|\\.part\\..*$", "")) < p1.sequence()), both.objects().toString());
            restoreToLatest(repo, first, "ret_from_first");
            assertEquals(rows("ret"), rows("ret_from_first"));
            assertEquals("a2,c,d", rows("ret_from_first"));

            // the first forgotten: files before the second snapshot's file go too; PITR from it still reaches the latest state
            LogRetention.Result dry = retention.apply(repo, List.of(second), true);
            assertEquals(left, archived(repo, source), "a dry run removes nothing");
            LogRetention.Result done = retention.apply(repo, List.of(second), false);
            assertEquals(dry.objects(), done.objects());
            assertEquals(left.stream().filter(f -> BinlogPosition.sequenceOf(f) >= p2.sequence()).toList(), archived(repo, source));
            restoreToLatest(repo, second, "ret_from_second");
            assertEquals(rows("ret"), rows("ret_from_second"));
        } finally {
            for (String d : List.of("ret", "ret_from_first", "ret_from_second")) {
                db.dropDatabase(d);
            }
        }
    }
}
