package io.backupkit.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.backupkit.BackupManager;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.Verifier;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.testkit.CallThread;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A logical restore that is interrupted, or whose one stream fails, stops everything it started
 * before it returns: no pg_restore child of this JVM and no COPY session of the restore remain,
 * and the target is left as documented (a database it created is dropped, an existing one keeps
 * what it had). The restore is held deterministically, not by timing: every row of the tables
 * {@code slow} and {@code other} passes a CHECK that calls {@code gate(tag)}, which waits while the
 * file {@code backupkit_gate_<tag>} in the data directory says "hold" and raises an error when it
 * says "fail" (at backup time the files do not exist and the gate lets everything through); the
 * format-1 case holds pg_restore on table locks instead.
 */
class PostgresRestoreStopIT {
    /** Bound for what should happen at once: generous, for a loaded 2-core machine. */
    private static final Duration SOON = Duration.ofSeconds(90);

    static EphemeralPostgres pg;
    @TempDir
    static Path dir;
    static Repository repository;
    static String snapshotId;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        pg.createDatabase("stop_src");
        pg.execute("stop_src", """
                CREATE FUNCTION public.gate(tag text) RETURNS boolean LANGUAGE plpgsql AS $$
                DECLARE v text;
                BEGIN
                    LOOP
                        v := pg_catalog.pg_read_file('backupkit_gate_' || tag, 0, 16, true);
                        IF v IS NULL OR v = '' THEN
                            RETURN true;
                        END IF;
                        IF v LIKE 'fail%' THEN
                            RAISE EXCEPTION 'gate % says fail', tag;
                        END IF;
                        PERFORM pg_catalog.pg_sleep(0.05);
                    END LOOP;
                END $$;
                CREATE TABLE slow (id int PRIMARY KEY, note text, CHECK (public.gate('slow')));
                CREATE TABLE other (id int PRIMARY KEY, note text, CHECK (public.gate('other')));
                INSERT INTO slow SELECT i, md5(i::text) FROM generate_series(1, 300) i;
                INSERT INTO other SELECT i, md5(i::text) FROM generate_series(1, 300) i;
                SELECT lo_from_bytea(0, 'a large object'::bytea);
                """);
        repository = Repository.builder().location(dir.resolve("repo").toString()).password("stop-test".toCharArray()).openOrCreate();
        snapshotId = BackupManager.builder().repository(repository).source(PgTestSupport.source(pg, "stop_src")).parallelism(2).build()
                .backup().snapshot().id();
    }

    @AfterAll
    static void stop() {
        if (repository != null) {
            repository.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    @AfterEach
    void openGates() {
        gate("slow", "");
        gate("other", "");
    }

    private static void gate(String tag, String state) {
        pg.writeDataFile("backupkit_gate_" + tag, state);
    }

    private static RestoreManager restoreManager(PostgresTarget target) {
        return RestoreManager.builder().repository(repository).snapshot(snapshotId).target(target).parallelism(2).build();
    }

    @Test
    void interruptedRestore_intoANewDatabase_stopsItsSessionsAndChildrenAndDropsTheDatabase() throws Exception {
        String db = "stop_new";
        gate("slow", "hold");
        gate("other", "hold");
        Set<Long> before = toolChildren().keySet();
        CallThread restore = new CallThread("the restore", () -> restoreManager(target(pg, db).build()).restore());
        try {
            await("the restore's COPY sessions wait in the gate", () -> gatedSessions(db) >= 2, restore);
            int logFrom = serverLog().length();
            restore.interrupt();
            restore.awaitStoppedEnd(SOON);

            EngineException e = assertInstanceOf(EngineException.class, restore.failure.get());
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(restore.interruptFlagAfter.get(), "the restoring thread's interrupt flag is set again");
            assertNoToolChildrenBeyond(before);
            // the drop (WITH FORCE) would end the COPY sessions too: that the restore stopped them itself, before the
            // drop, shows in the server's log as their statements cancelled (the drop would terminate them instead)
            await("both COPY statements of the restore cancelled (server log)",
                    () -> occurrences(serverLog().substring(logFrom), "canceling statement due to user request") >= 2, null);
            // the gates still hold: only a stopped restore has no session left
            await("no session of the restore on " + db, () -> restoreSessions(db) == 0, null);
            assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + db + "'"),
                    "the database the restore created is dropped");
        } finally {
            openGates();
            restore.join(SOON.toMillis());
        }
    }

    /** An interrupted scratch restore is no failed check: the verification ends with the interrupt, and its scratch database goes. */
    @Test
    void interruptedVerification_throwsTheInterrupt_insteadOfAReport_andDropsItsScratchDatabase() throws Exception {
        gate("slow", "hold");
        gate("other", "hold");
        CallThread verify = new CallThread("the verification", () -> Verifier.builder().repository(repository).snapshot(snapshotId)
                .level(VerificationLevel.COMPREHENSIVE).scratchTarget(target(pg, "stop_verify").build()).build().verify());
        try {
            await("the scratch restore's COPY sessions wait in the gate", () -> count("SELECT count(*) FROM pg_stat_activity WHERE "
                    + "datname LIKE 'backupkit_verify_%' AND application_name LIKE 'backupkit-copy%' AND wait_event = 'PgSleep'") >= 2, verify);
            verify.interrupt();
            verify.awaitStoppedEnd(SOON);

            EngineException e = assertInstanceOf(EngineException.class, verify.failure.get());
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(verify.interruptFlagAfter.get(), "the verifying thread's interrupt flag is set again");
            assertEquals(0, count("SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"), "the scratch database is dropped");
        } finally {
            openGates();
            verify.join(SOON.toMillis());
        }
    }

    @Test
    void interruptedDataOnlyRestore_intoAnExistingDatabase_stopsItsCopySessionsAndAddsNothingLater() throws Exception {
        String db = "stop_existing";
        restoreManager(target(pg, db).schemaOnly().build()).restore();
        gate("slow", "hold");
        gate("other", "hold");
        CallThread restore = new CallThread("the restore", () -> restoreManager(target(pg, db).dataOnly().build()).restore());
        try {
            await("the restore's COPY sessions wait in the gate", () -> gatedSessions(db) >= 2, restore);
            restore.interrupt();
            restore.awaitStoppedEnd(SOON);

            EngineException e = assertInstanceOf(EngineException.class, restore.failure.get());
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            // the gates still hold: a COPY session left behind would wait there, and write its rows once they open
            await("no session of the restore on " + db, () -> restoreSessions(db) == 0, null);
            openGates();
            assertEquals("0", pg.queryForString(db, "SELECT (SELECT count(*) FROM slow) + (SELECT count(*) FROM other)"),
                    "the existing database keeps what it had: no rows arrive after the restore returned");
            assertEquals("1", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + db + "'"),
                    "an existing database is never dropped");
        } finally {
            openGates();
            restore.join(SOON.toMillis());
            pg.dropDatabase(db);
        }
    }

    @Test
    void oneStreamFailing_stopsTheOtherAtOnce_andTheFirstFailureIsReported() throws Exception {
        String db = "stop_failing";
        gate("slow", "hold");
        gate("other", "hold");
        Set<Long> before = toolChildren().keySet();
        CallThread restore = new CallThread("the restore", () -> restoreManager(target(pg, db).build()).restore());
        try {
            await("both COPY sessions wait in the gate", () -> gatedSessions(db) >= 2, restore);
            gate("other", "fail");
            // slow's gate still holds: a restore that waited for its stream to finish would never end
            restore.awaitStoppedEnd(SOON);

            RuntimeException e = restore.failure.get();
            assertNotNull(e, "the restore failed");
            assertTrue(messages(e).contains("gate other says fail"), "the failure the user sees is the stream that failed: " + messages(e));
            assertFalse(e.getMessage().contains("interrupted"), e.getMessage());
            assertNoToolChildrenBeyond(before);
            await("no session of the restore on " + db, () -> restoreSessions(db) == 0, null);
            assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + db + "'"),
                    "the database the failed restore created is dropped");
        } finally {
            openGates();
            restore.join(SOON.toMillis());
        }
    }

    /**
     * Format 1 (table data as pg_dump archives) restores its data through pg_restore children: an
     * interrupted data-only restore destroys them, and pg_restore, on SIGTERM, cancels its
     * statement, so its sessions end although the locks they wait for are still held.
     */
    @Test
    @SuppressWarnings("unchecked")
    void interruptedFormatOneRestore_destroysItsPgRestoreChildren() throws Exception {
        Map<String, Object> metadata;
        try (InputStream in = PostgresRestoreStopIT.class.getResourceAsStream("/format1-snapshot/metadata.json")) {
            metadata = new ObjectMapper().readValue(in, Map.class);
        }
        InMemoryBackup backup = new InMemoryBackup(2);
        for (String stream : List.of("pre-data", "data-0001", "data-0002", "data-other", "post-data")) {
            try (InputStream in = PostgresRestoreStopIT.class.getResourceAsStream("/format1-snapshot/" + stream);
                 OutputStream out = backup.newStream(stream)) {
                in.transferTo(out);
            }
        }
        metadata.forEach(backup::putMetadata);
        Snapshot snapshot = backup.snapshot(new BackupSource() {
            @Override
            public String engine() {
                return PostgresEngine.NAME;
            }

            @Override
            public String describe() {
                return "format 1 fixture";
            }

            @Override
            public void backup(BackupContext context) {
                throw new UnsupportedOperationException();
            }
        });
        String db = "stop_format1";
        target(pg, db).schemaOnly().build().restore(backup.restoreContext(snapshot, 2));
        Set<Long> before = toolChildren().keySet();
        CallThread restore;
        try (Connection locker = DriverManager.getConnection(pg.jdbcUrl(db), pg.user(), pg.password())) {
            locker.setAutoCommit(false);
            try (Statement st = locker.createStatement()) {
                st.execute("LOCK TABLE customers, docs, orders_2025, orders_2026 IN ACCESS EXCLUSIVE MODE");
            }
            restore = new CallThread("the restore", () -> target(pg, db).dataOnly().build().restore(backup.restoreContext(snapshot, 2)));
            await("the restore's pg_restore sessions wait for the locks", () -> lockedSessions(db) >= 2, restore);
            assertTrue(toolChildren().values().stream().anyMatch(c -> c.contains("pg_restore")), "pg_restore children run: "
                    + toolChildren());
            restore.interrupt();
            restore.awaitStoppedEnd(SOON);

            EngineException e = assertInstanceOf(EngineException.class, restore.failure.get());
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertNoToolChildrenBeyond(before);
            // the locks are still held: a session left behind would wait for them, and copy its rows when they go
            await("no session of the restore on " + db, () -> restoreSessions(db) == 0, null);
            locker.rollback();
        }
        try {
            assertEquals("0", pg.queryForString(db, "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM docs) "
                    + "+ (SELECT count(*) FROM orders)"), "the existing database keeps what it had");
        } finally {
            restore.join(SOON.toMillis());
            pg.dropDatabase(db);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void await(String what, BooleanSupplier condition, CallThread restore) throws InterruptedException {
        long deadline = System.nanoTime() + SOON.toNanos();
        while (!condition.getAsBoolean()) {
            if (restore != null && !restore.isAlive()) {
                fail("the restore ended before " + what + ": " + restore.failure.get(), restore.failure.get());
            }
            if (System.nanoTime() > deadline) {
                fail("not within " + SOON.toSeconds() + " s: " + what + "; sessions: " + pg.queryForString("postgres",
                        "SELECT string_agg(datname || ' ' || application_name || ' ' || state || ' ' || coalesce(wait_event, '-'), '; ') "
                                + "FROM pg_stat_activity WHERE application_name LIKE 'backupkit%'"));
            }
            Thread.sleep(50);
        }
    }

    /** The whole server log of the fixture. */
    private static String serverLog() {
        return pg.logTail(Integer.MAX_VALUE);
    }

    private static int occurrences(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + what.length())) {
            n++;
        }
        return n;
    }

    private static long count(String sql) {
        return Long.parseLong(pg.queryForString("postgres", sql));
    }

    /** Sessions of a restore (pg_restore's and the COPY sessions' application names start with backupkit). */
    private static long restoreSessions(String db) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db + "' AND application_name LIKE 'backupkit%'");
    }

    private static long gatedSessions(String db) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db + "' AND application_name LIKE 'backupkit-copy%' "
                + "AND wait_event = 'PgSleep'");
    }

    private static long lockedSessions(String db) {
        return count("SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db + "' AND application_name LIKE 'backupkit-pg_restore%' "
                + "AND wait_event_type = 'Lock'");
    }

    /** Live descendants of this JVM that are PostgreSQL client tools, by pid. */
    private static Map<Long, String> toolChildren() {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().map(c -> c.endsWith("/pg_restore") || c.endsWith("/psql") || c.endsWith("/pg_dump"))
                        .orElse(false))
                .collect(Collectors.toMap(ProcessHandle::pid, p -> p.info().commandLine().orElse("?"), (a, b) -> a));
    }

    private static void assertNoToolChildrenBeyond(Set<Long> before) throws InterruptedException {
        // destroy() has waited for each child, so this holds at once; the bound only absorbs a forced kill still being reaped
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        Map<Long, String> left;
        while (!(left = withoutKeys(toolChildren(), before)).isEmpty()) {
            if (System.nanoTime() > deadline) {
                fail("child processes of the restore still run after it returned: " + left);
            }
            Thread.sleep(50);
        }
    }

    private static Map<Long, String> withoutKeys(Map<Long, String> m, Set<Long> keys) {
        return m.entrySet().stream().filter(e -> !keys.contains(e.getKey())).collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}
