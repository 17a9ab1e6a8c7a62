package io.backupkit.postgres;

import io.backupkit.EngineException;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.testkit.ChildProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A schema change queued between the backup's snapshot session and its children (issue 9, item 12):
 * the children would wait behind the ALTER, the ALTER behind the snapshot session, the snapshot
 * session for its children: a deadlock PostgreSQL cannot see. The backup must fail in bounded time
 * with the table named, and the application's ALTER must then go through.
 */
class PostgresLockTimeoutIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
        pg.createDatabase("app");
        pg.execute("app", """
                CREATE TABLE accounts (id int PRIMARY KEY, balance bigint);
                INSERT INTO accounts SELECT i, 100 FROM generate_series(1, 1000) i;
                CREATE TABLE victim (id int PRIMARY KEY, note text);
                INSERT INTO victim SELECT i, 'n' || i FROM generate_series(1, 1000) i;
                CREATE TABLE zebra (id int);
                """);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    /** Whatever a failed run left blocked (with the old code: everything) is ended, so the next test and the server can stop. */
    @AfterEach
    void unblock() {
        pg.execute("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'app' AND pid <> pg_backend_pid()");
    }

    private static PostgresSource source(Duration lockWaitTimeout) {
        return PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(pg.password().toCharArray())
                .lockWaitTimeout(lockWaitTimeout).build();
    }

    private static boolean exclusiveLockWaiting(String table) {
        return !"0".equals(pg.queryForString("app", "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                + "WHERE c.relname = '" + table + "' AND l.mode = 'AccessExclusiveLock' AND NOT l.granted"));
    }

    /** Runs an ALTER TABLE from another session, as an application's migration would. */
    private static CompletableFuture<Void> alterInBackground(String sql) {
        return CompletableFuture.runAsync(() -> {
            try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
                st.execute(sql);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A context that, once the backup holds its locks and before any child starts, queues an ALTER TABLE behind them. */
    private static final class AlterBetweenLeaderAndChildren extends ForwardingBackupContext<InMemoryBackup> {
        volatile CompletableFuture<Void> alter;

        AlterBetweenLeaderAndChildren() {
            super(new InMemoryBackup(2));
        }

        @Override
        public void putMetadata(String key, Object value) {
            inner.putMetadata(key, value);
            // the shard plan is recorded after the snapshot session locked every table and before the children start
            if (key.equals("shards") && alter == null) {
                alter = alterInBackground("ALTER TABLE victim ADD COLUMN added_by_migration int");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!exclusiveLockWaiting("victim")) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("the ALTER TABLE never queued");
                    }
                    Thread.onSpinWait();
                }
            }
        }
    }

    @Test
    void alterQueuedBetweenSnapshotAndChildren_failsTheBackupInBoundedTime_namingTheTable_andTheAlterGoesThrough() throws Exception {
        AlterBetweenLeaderAndChildren ctx = new AlterBetweenLeaderAndChildren();
        EngineException e = assertTimeoutPreemptively(Duration.ofMinutes(2),
                () -> assertThrows(EngineException.class, () -> source(Duration.ofSeconds(2)).backup(ctx)),
                "the backup must not wait forever behind the queued ALTER TABLE");
        assertTrue(e.getMessage().contains("could not lock table public.victim"), e.getMessage());
        assertTrue(e.getMessage().contains("lockWaitTimeout"), e.getMessage());
        // the application's migration was not blocked forever: it completes once the backup gave up
        ctx.alter.get(60, TimeUnit.SECONDS);
        assertEquals("1", pg.queryForString("app", "SELECT count(*) FROM information_schema.columns WHERE table_name = 'victim' "
                + "AND column_name = 'added_by_migration'"));
        // the children were stopped; their server sessions end a moment after their clients did
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!"0".equals(pg.queryForString("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()"))) {
            assertTrue(System.nanoTime() < deadline, "no backup session is left behind: " + pg.query("postgres",
                    "SELECT application_name, state, wait_event_type, query FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()"));
            Thread.sleep(50);
        }
        pg.execute("app", "ALTER TABLE victim DROP COLUMN added_by_migration");
    }

    @Test
    void aLongRunningAlter_makesTheSnapshotSessionGiveUp_namingTheTable() throws Exception {
        try (Connection migration = pg.connect("app"); Statement st = migration.createStatement()) {
            migration.setAutoCommit(false);
            st.execute("ALTER TABLE zebra ADD COLUMN width int");
            EngineException e = assertTimeoutPreemptively(Duration.ofMinutes(2),
                    () -> assertThrows(EngineException.class, () -> source(Duration.ofSeconds(1)).backup(new InMemoryBackup(2))));
            assertTrue(e.getMessage().contains("could not lock table public.zebra"), e.getMessage());
            assertTrue(e.getMessage().contains("snapshot session"), e.getMessage());
            // the dumps started ahead of their turn (pg_dumpall, the schema pg_dumps) were stopped with the backup
            for (String tool : List.of("pg_dumpall", "pg_dump", "psql")) {
                assertEquals(List.of(), ChildProcesses.named(tool), tool + " left running");
            }
            migration.rollback();
        }
        // without the schema change in the way the backup works
        source(Duration.ofSeconds(5)).backup(new InMemoryBackup(2));
    }
}
