package io.backupkit.mysql;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.VerificationLevel;
import io.backupkit.Verifier;
import io.backupkit.mysql.internal.StreamNames;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import io.backupkit.mysql.testing.MySqlServer;
import io.backupkit.testkit.CallThread;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A MySQL/MariaDB logical restore or backup that is interrupted, or whose one stream fails, stops
 * every session it started before it returns: none of them stays in the server's process list
 * (where it would go on waiting, then load or read rows), and the target is left as documented (a
 * database the restore created is dropped, an existing one keeps what it had).
 *
 * <p>The row loads and reads are held deterministically, by table locks the test takes with
 * {@code LOCK TABLES … WRITE} in sessions of its own, never by timing. A restore creates the
 * tables it then loads, so the test must lock them between the two steps: the snapshot's last
 * table, {@code z_gate}, has a default {@code nextval(stop_gate.s)}, and creating it waits while
 * the test holds a write lock on that sequence; meanwhile the test locks the tables created before
 * it, then lets the restore go on.
 */
class MariaDbStopIT {
    /** Bound for what should happen at once: generous, for a loaded 2-core machine. */
    private static final Duration SOON = Duration.ofSeconds(90);
    /** Lock waits of the restore and backup sessions: far longer than any test, so only a stop ends them. */
    private static final Duration LOCK_WAIT = Duration.ofMinutes(30);

    static EphemeralMariaDb db;
    @TempDir
    static Path dir;
    static Repository repository;
    static String snapshotId;

    @BeforeAll
    static void start() {
        db = EphemeralMariaDb.start();
        db.createDatabase("stop_gate");
        db.execute("stop_gate", "CREATE SEQUENCE s");
        db.createDatabase("stop_src");
        db.execute("stop_src", """
                CREATE TABLE a_slow (id int PRIMARY KEY, note text);
                INSERT INTO a_slow SELECT seq, repeat('a', 200) FROM seq_1_to_400;
                CREATE TABLE b_other (id int PRIMARY KEY, note text);
                INSERT INTO b_other SELECT seq, repeat('b', 100) FROM seq_1_to_300;
                CREATE TABLE z_gate (id int PRIMARY KEY, v bigint DEFAULT nextval(stop_gate.s));
                """);
        repository = Repository.builder().location(dir.resolve("repo").toString()).password("stop-test".toCharArray()).openOrCreate();
        snapshotId = BackupManager.builder().repository(repository).source(MySqlTestSupport.source(db, "stop_src").jobs(2).build())
                .build().backup().snapshot().id();
    }

    @AfterAll
    static void stop() {
        if (repository != null) {
            repository.close();
        }
        if (db != null) {
            db.close();
        }
    }

    private static RestoreManager restoreManager(MySqlTarget target) {
        return RestoreManager.builder().repository(repository).snapshot(snapshotId).target(target).parallelism(2).build();
    }

    private static MySqlTarget.Builder target(String database) {
        return MySqlTestSupport.target(db, database).jobs(2).lockWaitTimeout(LOCK_WAIT);
    }

    @Test
    void interruptedRestore_overAnExistingDatabase_stopsItsSessions_keepsTheDatabase_andLoadsNothingLater() throws Exception {
        String existing = "stop_existing";
        db.createDatabase(existing);
        db.execute(existing, "CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep me')");
        try (Connection gate = db.connect(null); Connection locker = db.connect(null)) {
            execute(gate, "LOCK TABLES stop_gate.s WRITE");
            CallThread restore = new CallThread("the restore", () -> restoreManager(target(existing).dropExisting().build()).restore());
            try {
                Session coordinator = awaitGatedCreate(restore);
                String into = coordinator.db();
                assertTrue(into.startsWith("backupkit_tmp_"), "a replacement is restored beside the old database: " + into);
                execute(locker, "LOCK TABLES " + q(into) + ".a_slow WRITE, " + q(into) + ".b_other WRITE");
                execute(gate, "UNLOCK TABLES");
                await("both row loads wait for the table locks", () -> waitingFor(into, coordinator.id()) >= 2, restore);

                restore.interrupt();
                // the locks still hold: a load left behind would wait for them, and load its rows once they go
                await("no row-loading session of the restore left", () -> sessionsIn(into, coordinator.id(), gate, locker).isEmpty(), null);
                // dropping the half-restored database waits for the locks too
                execute(locker, "UNLOCK TABLES");
                restore.awaitStoppedEnd(SOON);

                EngineException e = assertInstanceOf(EngineException.class, restore.failure.get());
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                assertTrue(restore.interruptFlagAfter.get(), "the restoring thread's interrupt flag is set again");
                await("no session of the restore left", () -> otherSessions(gate, locker).isEmpty(), null);
                assertFalse(db.databaseExists(into), "the half-restored copy is dropped");
                assertEquals("keep me", db.queryForString(existing, "SELECT group_concat(v) FROM precious"),
                        "the existing database keeps what it had");
                assertEquals("precious", db.queryForString(existing, "SELECT group_concat(TABLE_NAME) FROM information_schema.TABLES "
                        + "WHERE TABLE_SCHEMA = DATABASE()"), "no table of the snapshot arrives in the existing database");
            } finally {
                release(restore, gate, locker);
                db.dropDatabase(existing);
            }
        }
    }

    /** Both ways rows are loaded: LOAD DATA LOCAL, and multi-row INSERTs (servers with local_infile=OFF). */
    @ParameterizedTest(name = "useInserts={0}")
    @ValueSource(booleans = {false, true})
    void interruptedRestore_intoANewDatabase_stopsItsSessions_andDropsTheDatabase(boolean useInserts) throws Exception {
        String target = "stop_new";
        try (Connection gate = db.connect(null); Connection locker = db.connect(null)) {
            execute(gate, "LOCK TABLES stop_gate.s WRITE");
            MySqlTarget.Builder builder = target(target);
            if (useInserts) {
                builder.useInserts();
            }
            CallThread restore = new CallThread("the restore", () -> restoreManager(builder.build()).restore());
            try {
                Session coordinator = awaitGatedCreate(restore);
                assertEquals(target, coordinator.db());
                execute(locker, "LOCK TABLES " + q(target) + ".a_slow WRITE, " + q(target) + ".b_other WRITE");
                execute(gate, "UNLOCK TABLES");
                await("both row loads wait for the table locks", () -> waitingFor(target, coordinator.id()) >= 2, restore);
                String statement = useInserts ? "INSERT" : "LOAD DATA LOCAL";
                assertEquals(2, processList().stream().filter(s -> s.info() != null && s.info().startsWith(statement)).count(),
                        "the rows are loaded with " + statement + ": " + processList());

                restore.interrupt();
                await("no row-loading session of the restore left", () -> sessionsIn(target, coordinator.id(), gate, locker).isEmpty(), null);
                // now a load left behind would go on: none may
                execute(locker, "UNLOCK TABLES");
                restore.awaitStoppedEnd(SOON);

                EngineException e = assertInstanceOf(EngineException.class, restore.failure.get());
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                assertTrue(restore.interruptFlagAfter.get(), "the restoring thread's interrupt flag is set again");
                await("no session of the restore left", () -> otherSessions(gate, locker).isEmpty(), null);
                assertFalse(db.databaseExists(target), "the database the interrupted restore created is dropped");
            } finally {
                release(restore, gate, locker);
                if (db.databaseExists(target)) {
                    db.dropDatabase(target);
                }
            }
        }
    }

    @Test
    void oneRestoreStreamFailing_stopsTheBlockedOne_andTheFirstFailureIsReported() throws Exception {
        String target = "stop_failing";
        try (Connection gate = db.connect(null); Connection lockerA = db.connect(null); Connection lockerB = db.connect(null)) {
            execute(gate, "LOCK TABLES stop_gate.s WRITE");
            CallThread restore = new CallThread("the restore", () -> restoreManager(target(target).build()).restore());
            try {
                Session coordinator = awaitGatedCreate(restore);
                execute(lockerA, "LOCK TABLES " + q(target) + ".a_slow WRITE");
                execute(lockerB, "LOCK TABLES " + q(target) + ".b_other WRITE");
                execute(gate, "UNLOCK TABLES");
                await("both row loads wait for the table locks", () -> waitingFor(target, coordinator.id()) >= 2, restore);

                // b_other's load fails once it gets its table: the column it loads is gone
                execute(lockerB, "ALTER TABLE " + q(target) + ".b_other DROP COLUMN note");
                execute(lockerB, "UNLOCK TABLES");
                // a_slow's lock still holds: a restore that waited for its other stream to finish would never end
                await("no row-loading session of the restore left", () -> sessionsIn(target, coordinator.id(), gate, lockerA, lockerB)
                        .isEmpty(), null);
                execute(lockerA, "UNLOCK TABLES");
                restore.awaitStoppedEnd(SOON);

                RuntimeException e = restore.failure.get();
                assertNotNull(e, "the restore failed");
                assertTrue(e.getMessage().contains("Unknown column 'note'"), "the failure the user sees is the stream that failed: "
                        + e.getMessage());
                assertFalse(e.getMessage().contains("interrupted"), e.getMessage());
                assertFalse(restore.interruptFlagAfter.get());
                await("no session of the restore left", () -> otherSessions(gate, lockerA, lockerB).isEmpty(), null);
                assertFalse(db.databaseExists(target), "the database the failed restore created is dropped");
            } finally {
                release(restore, gate, lockerA, lockerB);
                if (db.databaseExists(target)) {
                    db.dropDatabase(target);
                }
            }
        }
    }

    @Test
    void interruptedBackup_stopsItsReadingSessions() throws Exception {
        CountDownLatch schemaWrite = new CountDownLatch(1);
        CountDownLatch tablesLocked = new CountDownLatch(1);
        MemoryBackup ctx = new MemoryBackup(2, stream -> holdAtSchema(stream, schemaWrite, tablesLocked));
        try (Connection locker = db.connect(null)) {
            CallThread backup = new CallThread("the backup", () -> MySqlTestSupport.source(db, "stop_src").jobs(2).lockWaitTimeout(LOCK_WAIT).build().backup(ctx));
            try {
                // the backup lock is released and the snapshot sessions are open: lock the tables they are about to read
                assertTrue(schemaWrite.await(SOON.toSeconds(), TimeUnit.SECONDS), "the backup reached its schema streams");
                execute(locker, "LOCK TABLES stop_src.a_slow WRITE, stop_src.b_other WRITE");
                tablesLocked.countDown();
                await("both table reads wait for the table locks", () -> waitingFor("stop_src", -1) >= 2, backup);

                backup.interrupt();
                await("no session of the backup left", () -> otherSessions(locker).isEmpty(), null);
                execute(locker, "UNLOCK TABLES");
                backup.awaitStoppedEnd(SOON);

                EngineException e = assertInstanceOf(EngineException.class, backup.failure.get());
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                assertTrue(backup.interruptFlagAfter.get(), "the backing-up thread's interrupt flag is set again");
            } finally {
                tablesLocked.countDown();
                release(backup, locker);
            }
        }
    }

    @Test
    void oneBackupStreamFailing_stopsTheBlockedRead_andTheFirstFailureIsReported() throws Exception {
        CountDownLatch schemaWrite = new CountDownLatch(1);
        CountDownLatch tablesLocked = new CountDownLatch(1);
        String failing = StreamNames.data("stop_src", "b_other");
        MemoryBackup ctx = new MemoryBackup(2, stream -> {
            holdAtSchema(stream, schemaWrite, tablesLocked);
            if (stream.equals(failing)) {
                throw new UncheckedIOException(new java.io.IOException("no space left on device (test)"));
            }
        });
        try (Connection lockerA = db.connect(null); Connection lockerB = db.connect(null)) {
            CallThread backup = new CallThread("the backup", () -> MySqlTestSupport.source(db, "stop_src").jobs(2).lockWaitTimeout(LOCK_WAIT).build().backup(ctx));
            try {
                assertTrue(schemaWrite.await(SOON.toSeconds(), TimeUnit.SECONDS), "the backup reached its schema streams");
                execute(lockerA, "LOCK TABLES stop_src.a_slow WRITE");
                execute(lockerB, "LOCK TABLES stop_src.b_other WRITE");
                tablesLocked.countDown();
                await("both table reads wait for the table locks", () -> waitingFor("stop_src", -1) >= 2, backup);

                // b_other is read and its stream fails; a_slow's lock still holds
                execute(lockerB, "UNLOCK TABLES");
                await("no session of the backup left", () -> otherSessions(lockerA, lockerB).isEmpty(), null);
                execute(lockerA, "UNLOCK TABLES");
                backup.awaitStoppedEnd(SOON);

                RuntimeException e = backup.failure.get();
                assertInstanceOf(BackupException.class, e);
                assertTrue(e.getMessage().contains("no space left on device (test)"), "the failure the user sees is the stream that failed: "
                        + e.getMessage());
                assertFalse(backup.interruptFlagAfter.get());
                assertFalse(ctx.metadata.containsKey("tables"), "a failed backup records no tables");
            } finally {
                tablesLocked.countDown();
                release(backup, lockerA, lockerB);
            }
        }
    }

    /** An interrupted scratch restore is no failed check: the verification ends with the interrupt, and drops its scratch database. */
    @Test
    void interruptedVerification_throwsTheInterrupt_insteadOfAReport_andDropsItsScratchDatabase() throws Exception {
        try (Connection gate = db.connect(null); Connection locker = db.connect(null)) {
            execute(gate, "LOCK TABLES stop_gate.s WRITE");
            CallThread verify = new CallThread("the verification", () -> Verifier.builder().repository(repository).snapshot(snapshotId)
                    .level(VerificationLevel.COMPREHENSIVE).scratchTarget(target("stop_verify").build()).build().verify());
            try {
                Session coordinator = awaitGatedCreate(verify);
                String scratch = coordinator.db();
                assertTrue(scratch.startsWith("backupkit_verify_"), "the scratch restore runs: " + scratch);
                execute(locker, "LOCK TABLES " + q(scratch) + ".a_slow WRITE, " + q(scratch) + ".b_other WRITE");
                execute(gate, "UNLOCK TABLES");
                await("both row loads wait for the table locks", () -> waitingFor(scratch, coordinator.id()) >= 2, verify);

                verify.interrupt();
                await("no row-loading session of the verification left", () -> sessionsIn(scratch, coordinator.id(), gate, locker).isEmpty(), null);
                // a verification that went on would now compare the tables and return a report
                execute(locker, "UNLOCK TABLES");
                verify.awaitStoppedEnd(SOON);

                EngineException e = assertInstanceOf(EngineException.class, verify.failure.get());
                assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
                assertTrue(verify.interruptFlagAfter.get(), "the verifying thread's interrupt flag is set again");
                await("no session of the verification left", () -> otherSessions(gate, locker).isEmpty(), null);
                assertFalse(db.databaseExists(scratch), "the scratch database is dropped");
            } finally {
                release(verify, gate, locker);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Holds the backup's coordinator at its first schema stream write (after the backup lock is released) until the tables are locked. */
    private static void holdAtSchema(String stream, CountDownLatch reached, CountDownLatch go) {
        if (stream.startsWith("schema/") && reached.getCount() > 0) {
            reached.countDown();
            try {
                go.await(SOON.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Lets everything go (whatever the test's outcome), so the next test starts on a quiet server. */
    private static void release(CallThread worker, Connection... sessions) throws InterruptedException {
        for (Connection c : sessions) {
            try {
                execute(c, "UNLOCK TABLES");
            } catch (SQLException ignored) {
                // the session is closed next, which releases its locks too
            }
        }
        worker.join(SOON.toMillis());
    }

    private record Session(long id, String db, String state, String info) {
    }

    /** Waits until the restore's coordinator waits in CREATE TABLE z_gate (for the sequence the test holds); returns it. */
    private static Session awaitGatedCreate(CallThread restore) throws InterruptedException {
        AtomicReference<Session> found = new AtomicReference<>();
        await("the restore waits in CREATE TABLE z_gate", () -> {
            for (Session s : processList()) {
                if (s.info() != null && s.info().startsWith("CREATE TABLE `z_gate`") && s.state().contains("metadata lock")) {
                    found.set(s);
                    return true;
                }
            }
            return false;
        }, restore);
        return found.get();
    }

    /** Sessions other than {@code except} whose statement on a table of {@code database} waits for the table's lock. */
    private static long waitingFor(String database, long except) {
        return processList().stream().filter(s -> s.id() != except && s.state().contains("metadata lock") && s.info() != null
                && s.info().contains(q(database) + ".")).count();
    }

    /** Sessions in {@code database} other than {@code coordinator} and the test's own. */
    private static List<Session> sessionsIn(String database, long coordinator, Connection... own) {
        Set<Long> mine = ids(own);
        return processList().stream().filter(s -> database.equals(s.db()) && s.id() != coordinator && !mine.contains(s.id())).toList();
    }

    /** Every client session but the test's own. */
    private static List<Session> otherSessions(Connection... own) {
        Set<Long> mine = ids(own);
        return processList().stream().filter(s -> !mine.contains(s.id())).toList();
    }

    private static Set<Long> ids(Connection... own) {
        Set<Long> out = new java.util.HashSet<>();
        for (Connection c : own) {
            try {
                out.add(c.unwrap(org.mariadb.jdbc.Connection.class).getThreadId());
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }

    /** The client sessions of the server, except the one asking. */
    private static List<Session> processList() {
        List<Session> out = new ArrayList<>();
        for (List<String> r : db.query(null, "SELECT ID, DB, STATE, INFO FROM information_schema.PROCESSLIST "
                + "WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump')")) {
            out.add(new Session(Long.parseLong(r.get(0)), r.get(1), r.get(2) == null ? "" : r.get(2), r.get(3)));
        }
        return out;
    }

    private static void await(String what, BooleanSupplier condition, CallThread worker) throws InterruptedException {
        long deadline = System.nanoTime() + SOON.toNanos();
        while (!condition.getAsBoolean()) {
            if (worker != null && !worker.isAlive()) {
                fail("the call ended before " + what + ": " + worker.failure.get(), worker.failure.get());
            }
            if (System.nanoTime() > deadline) {
                fail("not within " + SOON.toSeconds() + " s: " + what + "; sessions: " + processList());
            }
            Thread.sleep(50);
        }
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String q(String identifier) {
        return MySqlServer.quoteIdent(identifier);
    }
}
