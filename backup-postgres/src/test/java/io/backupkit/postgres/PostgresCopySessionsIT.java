package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.CommandExecutor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table-data COPY sessions of a logical backup (one per shard or page range; in this JVM, the tools being
 * local, {@code JdbcCopy}): a COPY
 * backend ended mid-stream fails the backup naming the stream and the table it was reading, and the
 * sibling sessions are stopped at once, not when they next get around to reading.
 */
class PostgresCopySessionsIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
        pg.createDatabase("two");
        // two tables of equal size: two shards of one table each (neither is above its fair share, so none is split)
        pg.execute("two", "CREATE TABLE a AS SELECT i, repeat(md5(i::text), 4) AS pad FROM generate_series(1, 150000) i;"
                + "CREATE TABLE b AS SELECT i, repeat(md5(i::text), 4) AS pad FROM generate_series(1, 150000) i");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static PostgresSource source(String db) {
        return PostgresSource.builder().url(pg.jdbcUrl(db)).user(pg.user()).password(pg.password().toCharArray())
                .toolDirectory(ToolRunner.findLocalToolDirectory().orElseThrow()).build();
    }

    private static List<String> copyBackends(String stream) {
        return pg.query("postgres", "SELECT pid FROM pg_stat_activity WHERE application_name = 'backupkit-copy " + stream + "'")
                .stream().map(r -> r.get(0)).toList();
    }

    /** Holds the first write of every data stream until the test lets it go, so each COPY session stays mid-stream. */
    private static final class HeldStreams extends ForwardingBackupContext<InMemoryBackup> {
        final Map<String, CountDownLatch> writing = new ConcurrentHashMap<>();
        final Map<String, CountDownLatch> release = new ConcurrentHashMap<>();
        /** The programs started so far, with their last argument (the connection string names the stream). */
        final List<String> started = new java.util.concurrent.CopyOnWriteArrayList<>();
        /** A pg_dump whose arguments contain this fails at once (an option it does not know), or null. */
        volatile String breakDump;
        /**
         * Whether the executor says its tools run on this machine: then the COPY sessions are this JVM's;
         * otherwise psql children, as where the tools run in a pod.
         */
        final boolean localTools;

        HeldStreams(String... streams) {
            this(true, streams);
        }

        HeldStreams(boolean localTools, String... streams) {
            super(new InMemoryBackup(2));
            this.localTools = localTools;
            for (String s : streams) {
                writing.put(s, new CountDownLatch(1));
                release.put(s, new CountDownLatch(1));
            }
        }

        @Override
        public CommandExecutor commandExecutor() {
            CommandExecutor local = inner.commandExecutor();
            return new CommandExecutor() {
                @Override
                public boolean local() {
                    return localTools;
                }

                @Override
                public io.backupkit.spi.RunningCommand start(io.backupkit.spi.CommandSpec spec) {
                List<String> cmd = spec.command();
                String program = java.nio.file.Path.of(cmd.get(0)).getFileName().toString();
                started.add(program + " " + cmd.get(cmd.size() - 1));
                if (breakDump != null && program.equals("pg_dump") && String.join(" ", cmd).contains(breakDump)) {
                    List<String> broken = new java.util.ArrayList<>(cmd);
                    broken.add("--no-such-option-in-this-test");
                    return local.start(io.backupkit.spi.CommandSpec.of(broken));
                }
                return local.start(spec);
                }
            };
        }

        @Override
        public OutputStream newStream(String name) {
            OutputStream out = inner.newStream(name);
            if (!writing.containsKey(name)) {
                return out;
            }
            return new FilterOutputStream(out) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    writing.get(name).countDown();
                    try {
                        release.get(name).await(2, TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    out.write(b, off, len);
                }
            };
        }

    }

    @ParameterizedTest(name = "tools local: {0}")
    @ValueSource(booleans = {true, false})
    void copyBackendTerminatedMidStream_failsTheBackupNamingTheTable_andTheOtherSessionIsStoppedAtOnce(boolean localTools) throws Exception {
        HeldStreams ctx = new HeldStreams(localTools, "data-0001", "data-0002");
        BackupException[] thrown = new BackupException[1];
        Thread backup = new Thread(() -> thrown[0] = assertThrows(BackupException.class, () -> source("two").backup(ctx)));
        backup.start();
        try {
            assertTrue(ctx.writing.get("data-0001").await(60, TimeUnit.SECONDS), "the first COPY session started streaming");
            assertTrue(ctx.writing.get("data-0002").await(60, TimeUnit.SECONDS), "the second COPY session started streaming");
            List<String> victim = copyBackends("data-0001");
            assertEquals(1, victim.size(), "one COPY session per shard: " + victim);
            assertEquals(1, copyBackends("data-0002").size());
            pg.execute("postgres", "SELECT pg_terminate_backend(" + victim.get(0) + ")");
            ctx.release.get("data-0001").countDown();
            // data-0002's writer is still held: its session must end because the backup failed, not because it read on
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!copyBackends("data-0002").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the sibling COPY session was stopped when the other one failed");
                Thread.sleep(20);
            }
        } finally {
            ctx.release.values().forEach(CountDownLatch::countDown);
            backup.join(TimeUnit.MINUTES.toMillis(2));
        }
        assertFalse(backup.isAlive());
        BackupException e = thrown[0];
        assertTrue(e instanceof EngineException, String.valueOf(e));
        // the root failure, not the sibling's consequence
        assertTrue(e.getMessage().contains("into data-0001"), e.getMessage());
        assertTrue(e.getMessage().contains("reading public."), e.getMessage());
        // a backend terminated while it waits to send cannot always send its FATAL message: the session sees the connection end
        if (localTools) {
            // the session is this JVM's (JdbcCopy)
            assertTrue(e.getMessage().contains("The server ended the session in the middle of the COPY"), e.getMessage());
            assertTrue(e.getMessage().contains("SQLSTATE 08006") || e.getMessage().contains("SQLSTATE 57P01"), e.getMessage());
        } else {
            // a psql child's
            assertTrue(e.getMessage().contains("failed with exit code"), e.getMessage());
            assertTrue(e.getMessage().contains("server closed the connection unexpectedly") || e.getMessage().contains("terminating connection"),
                    e.getMessage());
        }
        assertTrue(e.getMessage().contains(pg.port() + "/two"), e.getMessage());
        assertFalse(e.getMessage().contains(pg.password()), e.getMessage());
        assertTrue(waitNoBackupSessions(), () -> "no backup session is left behind: " + pg.query("postgres",
                "SELECT pid, application_name, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()"));
    }

    @Test
    void schemaDumps_startBesideTheCopySessions_notAfterThem() throws Exception {
        HeldStreams ctx = new HeldStreams("data-0001", "data-0002");
        Thread backup = new Thread(() -> source("two").backup(ctx));
        backup.start();
        try {
            assertTrue(ctx.writing.get("data-0001").await(60, TimeUnit.SECONDS), "the first COPY session started streaming");
            assertTrue(ctx.writing.get("data-0002").await(60, TimeUnit.SECONDS), "the second COPY session started streaming");
            // both workers are held inside their COPY: the pg_dumps of the schema have been started all the same
            List<String> dumps = ctx.started.stream().filter(c -> c.startsWith("pg_dump --dbname")).toList();
            // data-other too: without large objects or extension configuration tables it is a header, which fits in the pipe
            assertEquals(3, dumps.size(), "pre-data, post-data and data-other, started while the COPYs run: " + ctx.started);
            for (String section : List.of("pre-data", "post-data", "data-other")) {
                assertTrue(dumps.stream().anyMatch(c -> c.contains(section)), section + " in " + dumps);
            }
            assertTrue(ctx.started.stream().anyMatch(c -> c.startsWith("pg_dumpall --dbname")), "pg_dumpall: " + ctx.started);
            // ... yet no more streams are open than the context allows: their output waits for a free worker
            assertEquals(2, ctx.inner.maxConcurrentStreams(), "streams open at once");
        } finally {
            ctx.release.values().forEach(CountDownLatch::countDown);
            backup.join(TimeUnit.MINUTES.toMillis(2));
        }
        assertFalse(backup.isAlive());
        assertTrue(ctx.inner.maxConcurrentStreams() <= 2, "never more streams open than the context's parallelism");
        var snapshot = ctx.inner.snapshot(source("two"));
        assertTrue(snapshot.streams().stream().map(s -> s.name()).toList().containsAll(List.of("pre-data", "post-data", "data-other", "data-0001", "data-0002")),
                snapshot.streams().toString());
        assertTrue(waitNoBackupSessions(), "no backup session is left behind");
    }

    /** Local tools: only they start the schema dumps early, beside the COPY sessions (this JVM's). */
    @Test
    void aSchemaDumpFailingAtOnce_failsTheBackupAtOnce_notAfterTheData() throws Exception {
        HeldStreams ctx = new HeldStreams("data-0001", "data-0002");
        ctx.breakDump = "post-data";
        BackupException[] thrown = new BackupException[1];
        Thread backup = new Thread(() -> thrown[0] = assertThrows(BackupException.class, () -> source("two").backup(ctx)));
        backup.start();
        try {
            // the data streams stay held (a worker waits in its first write): the failed pg_dump must end the
            // backup before its COPYs began, or end its COPY sessions now, not when a worker gets to its output
            // after the data
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            boolean copying = false;
            while (backup.isAlive()) {
                // a worker held in its first write is inside its COPY session, which only a stop can end: a session
                // seen once, or a write begun before this poll, and no session now, is a COPY the failure stopped
                // (the stop may come within one poll of the session's start, so it is not always seen)
                boolean wrote = ctx.writing.values().stream().anyMatch(w -> w.getCount() == 0);
                boolean sessions = !pg.query("postgres", "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'backupkit-copy %'").isEmpty();
                if ((copying || wrote) && !sessions) {
                    break;
                }
                copying |= sessions;
                assertTrue(System.nanoTime() < deadline, "the backup went on with its COPY sessions after pg_dump failed: " + ctx.started);
                Thread.sleep(20);
            }
        } finally {
            ctx.release.values().forEach(CountDownLatch::countDown);
            backup.join(TimeUnit.MINUTES.toMillis(2));
        }
        BackupException e = thrown[0];
        assertTrue(e.getMessage().contains("pg_dump of post-data"), e.getMessage());
        assertTrue(e.getMessage().contains("exit code"), e.getMessage());
        assertTrue(waitNoBackupSessions(), () -> "no backup session is left behind: " + pg.query("postgres",
                "SELECT pid, application_name, state FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()"));
    }

    private static boolean waitNoBackupSessions() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (pg.query("postgres", "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()").isEmpty()) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }
}
