package io.backupkit.mysql;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.LogArchive;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 acceptance 1 (PITR): binary logs streamed into the repository while the database
 * changes; a restore to a time between two known commits, or to a binary log position, gives
 * exactly the state at that point; gaps and targets beyond the archive are refused by name.
 */
class MariaDbPointInTimeIT {
    private static EphemeralMariaDb db;
    private static int counter;

    @TempDir
    Path dir;

    private Repository repo;
    private String name;

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

    @BeforeEach
    void setUp() {
        repo = Repository.builder().location(dir.resolve("repo").toString()).password("pitr".toCharArray()).openOrCreate();
        name = "shop" + (++counter);
        db.createDatabase(name);
        db.execute(name, "CREATE TABLE t (id int PRIMARY KEY, v varchar(20)); INSERT INTO t VALUES (0, 'base')");
    }

    @AfterEach
    void tearDown() {
        repo.close();
        for (List<String> r : db.query(null, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '" + name + "%'")) {
            db.dropDatabase(r.get(0));
        }
    }

    private BinlogReceiver receiver() {
        return BinlogReceiver.builder().url(db.uri(null)).user(db.user()).password(db.password().toCharArray()).repository(repo)
                .partialInterval(Duration.ofMillis(200)).build().start();
    }

    private BinlogPosition position() {
        List<String> r = db.query(null, "SHOW MASTER STATUS").get(0);
        return new BinlogPosition(r.get(0), Long.parseLong(r.get(1)));
    }

    private void restore(String into, BinlogRecoveryTarget target) {
        RestoreManager.builder().repository(repo).snapshot("latest")
                .target(MySqlTestSupport.target(db, into).recoverTo(target).build()).build().restore();
    }

    private String rows(String database) {
        return String.join(",", db.query(database, "SELECT v FROM t ORDER BY id").stream().map(r -> r.get(0)).toList());
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /** Waits (polling the clock) until the current second is later than {@code t}'s. */
    private static Instant nextSecondAfter(Instant t) throws InterruptedException {
        Instant boundary = Instant.ofEpochSecond(t.getEpochSecond() + 1);
        while (Instant.now().isBefore(boundary)) {
            Thread.sleep(20);
        }
        return boundary;
    }

    @Test
    void restoreToTimeBetweenTwoCommits_hasExactlyTheFirst() throws Exception {
        try (BinlogReceiver receiver = receiver()) {
            BackupResult backup = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, name).build()).build().backup();
            assertTrue(backup.snapshot().metadata().get("binlog") instanceof java.util.Map<?, ?>, backup.snapshot().metadata().toString());
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            db.execute(null, "FLUSH BINARY LOGS"); // the target lies in a later file than the snapshot's position
            db.execute(name, "UPDATE t SET v = 'a2' WHERE id = 1");
            BinlogPosition afterA = position();
            Instant between = nextSecondAfter(Instant.now());
            db.execute(name, "INSERT INTO t VALUES (2, 'b'); DELETE FROM t WHERE id = 0");
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));

            restore(name + "_time", BinlogRecoveryTarget.time(between));
            assertEquals("base,a2", rows(name + "_time"));
            restore(name + "_pos", BinlogRecoveryTarget.position(afterA));
            assertEquals("base,a2", rows(name + "_pos"));
            restore(name + "_latest", BinlogRecoveryTarget.latest());
            assertEquals("a2,b", rows(name + "_latest"));
            assertEquals(rows(name), rows(name + "_latest"));
            assertTrue(receiver.status().filesStored() >= 1, receiver.status().toString());
        }
    }

    @Test
    void wholeServerSnapshot_recoversEveryDatabaseOnAnotherServer() throws Exception {
        try (BinlogReceiver receiver = receiver(); EphemeralMariaDb other = EphemeralMariaDb.builder().serverId(2).binlog(false).start()) {
            BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, null).build()).build().backup();
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            db.execute(null, "CREATE DATABASE " + name + "_new");
            db.execute(name + "_new", "CREATE TABLE n (id int PRIMARY KEY); INSERT INTO n VALUES (7)");
            Instant between = nextSecondAfter(Instant.now());
            db.execute(name, "INSERT INTO t VALUES (2, 'b')");
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));
            RestoreManager.builder().repository(repo).snapshot("latest").target(MySqlTarget.builder().url(other.uri(null))
                    .user(other.user()).password(other.password().toCharArray()).recoverTo(BinlogRecoveryTarget.time(between)).build())
                    .build().restore();
            assertEquals("base,a", String.join(",", other.query(name, "SELECT v FROM t ORDER BY id").stream().map(r -> r.get(0)).toList()));
            assertEquals("7", other.queryForString(name + "_new", "SELECT id FROM n"), "a database created after the backup is replayed too");
        }
    }

    @Test
    void replacingAnExistingDatabase_replaysIntoTheReplacement() throws Exception {
        try (BinlogReceiver receiver = receiver()) {
            BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, name).build()).build().backup();
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            Instant between = nextSecondAfter(Instant.now());
            db.execute(name, "INSERT INTO t VALUES (2, 'b')");
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));
            // the damaged database is replaced by its state at the chosen time, under its own name
            db.execute(name, "DELETE FROM t");
            RestoreManager.builder().repository(repo).snapshot("latest").target(MySqlTestSupport.target(db, name).dropExisting()
                    .recoverTo(BinlogRecoveryTarget.time(between)).build()).build().restore();
            assertEquals("base,a", rows(name));
        }
    }

    @Test
    void planNamesTheFilesToReplay_andTargetsBeyondTheArchiveAreRefused() throws Exception {
        BinlogPosition end;
        try (BinlogReceiver receiver = receiver()) {
            BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, name).build()).build().backup();
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            end = receiver.awaitCurrentPosition(Duration.ofSeconds(60));
        }
        RestorePlan plan = RestoreManager.builder().repository(repo).target(MySqlTestSupport.target(db, name + "_x")
                .recoverTo(BinlogRecoveryTarget.latest()).build()).build().plan();
        String last = plan.actions().get(plan.actions().size() - 1);
        assertTrue(last.startsWith("replay binary logs of source server-1 from ") && last.contains(end.file()), last);

        Instant later = Instant.now().plusSeconds(3600);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> restore(name + "_late", BinlogRecoveryTarget.time(later)));
        assertTrue(e.getMessage().startsWith("the binary log archive of source server-1 reaches only to "), e.getMessage());
        assertTrue(e.getMessage().contains("the recovery target " + later + " is later. Is the binlog receiver running?"), e.getMessage());

        Instant before = Instant.parse("2020-01-01T00:00:00Z");
        e = assertThrows(ConfigurationException.class, () -> restore(name + "_early", BinlogRecoveryTarget.time(before)));
        assertTrue(e.getMessage().startsWith("no MySQL snapshot with binary log coordinates in "), e.getMessage());
        assertTrue(e.getMessage().endsWith("was taken before the recovery target (time 2020-01-01T00:00:00Z)"), e.getMessage());
        assertEquals("0", db.queryForString(null, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '" + name + "\\_%'"),
                "a refused point-in-time restore created a database");
    }

    @Test
    void aMissingFileInTheArchive_isNamed() throws Exception {
        String missing;
        try (BinlogReceiver receiver = receiver()) {
            BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, name).build()).build().backup();
            db.execute(null, "FLUSH BINARY LOGS");
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            missing = position().file();
            db.execute(null, "FLUSH BINARY LOGS");
            db.execute(name, "INSERT INTO t VALUES (2, 'b')");
            db.execute(null, "FLUSH BINARY LOGS");
            db.execute(name, "INSERT INTO t VALUES (3, 'c')");
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));
        }
        LogArchive.open(repo, "binlog").delete("server-1/" + missing);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> restore(name + "_gap", BinlogRecoveryTarget.latest()));
        assertTrue(e.getMessage().startsWith("binlog gap: " + missing + " "), e.getMessage());
    }

    @Test
    void receiverResumesAfterRestart_andSurvivesAServerCrash() throws Exception {
        BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, name).build()).build().backup();
        try (BinlogReceiver receiver = receiver()) {
            db.execute(name, "INSERT INTO t VALUES (1, 'a')");
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));
        }
        db.execute(name, "INSERT INTO t VALUES (2, 'b')");
        try (BinlogReceiver receiver = receiver()) {
            receiver.awaitCurrentPosition(Duration.ofSeconds(60));
            db.kill();
            db.restart();
            db.execute(name, "INSERT INTO t VALUES (3, 'c')");
            // the receiver reconnects by itself (backing off) and archives what the restarted server writes
            receiver.awaitCurrentPosition(Duration.ofSeconds(120));
        }
        restore(name + "_after", BinlogRecoveryTarget.latest());
        assertEquals("base,a,b,c", rows(name + "_after"));
    }

    @Test
    void receiverRefusesWhenTheFirstFileWasPurged() {
        db.execute(null, "FLUSH BINARY LOGS");
        String current = position().file();
        String purged = BinlogPosition.fileWithSequence(current, BinlogPosition.sequenceOf(current) - 1);
        // MariaDB keeps a file until InnoDB no longer needs it for crash recovery: purge until it is gone
        long deadline = System.nanoTime() + 60_000_000_000L;
        List<String> left;
        do {
            db.execute(null, "PURGE BINARY LOGS TO '" + current + "'");
            left = db.query(null, "SHOW BINARY LOGS").stream().map(r -> r.get(0)).toList();
        } while (!left.get(0).equals(current) && System.nanoTime() < deadline && sleep(200));
        assertEquals(current, left.get(0), "PURGE BINARY LOGS left " + left);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> BinlogReceiver.builder().url(db.uri(null))
                .user(db.user()).password(db.password().toCharArray()).repository(repo).startFile(purged).build().start());
        assertTrue(e.getMessage().startsWith("binlog gap: " + purged + " was purged from 127.0.0.1:" + db.port()
                + " before being archived (the server's oldest binary log is " + current + ")"), e.getMessage());
    }
}
