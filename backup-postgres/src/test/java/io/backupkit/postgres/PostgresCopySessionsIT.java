package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.LocalCommandExecutor;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table-data COPY sessions of a logical backup: in this JVM through JDBC when the tools run
 * locally, through psql where they run elsewhere (a pod). A COPY backend ended mid-stream fails the
 * backup with the table named, and the sibling sessions are stopped at once, not when they next
 * get around to reading; both paths write the same bytes.
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
        pg.execute("postgres", "CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
        // LATIN1 bytes 0xA0-0xFF that are invalid or different in UTF-8; big enough to be split into page ranges
        pg.execute("lat", "CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL);"
                + "INSERT INTO big SELECT i, repeat('Grüße ÿ ¤ é ß ° ½ ' || chr(160) || ' ', 12) || i FROM generate_series(1, 200000) i;"
                + "CREATE TABLE \"Übersicht\" (id int, \"größe\" text); INSERT INTO \"Übersicht\" SELECT i, 'ä' || i FROM generate_series(1, 500) i;"
                + "CREATE TABLE plain (id int, note text); INSERT INTO plain SELECT i, 'n' || i FROM generate_series(1, 100) i");
        pg.execute("lat", "VACUUM ANALYZE big");
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
    private static final class HeldStreams implements BackupContext {
        final InMemoryBackup inner = new InMemoryBackup(2);
        final Map<String, CountDownLatch> writing = new ConcurrentHashMap<>();
        final Map<String, CountDownLatch> release = new ConcurrentHashMap<>();

        HeldStreams(String... streams) {
            for (String s : streams) {
                writing.put(s, new CountDownLatch(1));
                release.put(s, new CountDownLatch(1));
            }
        }

        @Override
        public int parallelism() {
            return inner.parallelism();
        }

        @Override
        public CommandExecutor commandExecutor() {
            return inner.commandExecutor();
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

        @Override
        public void putMetadata(String key, Object value) {
            inner.putMetadata(key, value);
        }

        @Override
        public void expectedBytes(long bytes) {
            inner.expectedBytes(bytes);
        }
    }

    @Test
    void copyBackendTerminatedMidStream_failsTheBackupNamingTheTable_andTheOtherSessionIsStoppedAtOnce() throws Exception {
        HeldStreams ctx = new HeldStreams("data-0001", "data-0002");
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
        // a backend terminated while it waits to send cannot send its FATAL message; the client sees the connection end
        assertTrue(e.getMessage().contains("The server ended the session in the middle of the COPY"), e.getMessage());
        assertTrue(e.getMessage().contains(pg.port() + "/two"), e.getMessage());
        assertFalse(e.getMessage().contains(pg.password()), e.getMessage());
        assertTrue(waitNoBackupSessions(), () -> "no backup session is left behind: " + pg.query("postgres",
                "SELECT pid, application_name, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()"));
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

    /** Runs local processes, but is not the local executor: the backup takes the path it takes for a pod. */
    private static final class ElsewhereExecutor implements CommandExecutor {
        final LocalCommandExecutor local = new LocalCommandExecutor();
        final List<List<String>> started = new CopyOnWriteArrayList<>();

        @Override
        public RunningCommand start(CommandSpec spec) {
            started.add(spec.command());
            return local.start(spec);
        }
    }

    @Test
    void inProcessAndPsqlSessions_writeTheSameBytes_inANonUtf8Database() {
        InMemoryBackup here = new InMemoryBackup(2);
        source("lat").backup(here);
        ElsewhereExecutor elsewhere = new ElsewhereExecutor();
        InMemoryBackup there = new InMemoryBackup(2, elsewhere);
        source("lat").backup(there);

        List<String> psqlSessions = elsewhere.started.stream().filter(c -> c.get(0).endsWith("psql"))
                .map(c -> c.stream().filter(a -> a.contains("backupkit-copy")).collect(Collectors.joining())).toList();
        assertTrue(psqlSessions.size() >= 3, "with tools elsewhere, psql sessions COPY the data: " + elsewhere.started);
        Map<String, Object> parts = castMap(here.snapshot(source("lat")).metadata().get("parts"));
        assertTrue(parts.size() >= 2, "the big table is split into page ranges: " + parts.keySet());
        assertEquals(parts.keySet(), castMap(there.snapshot(source("lat")).metadata().get("parts")).keySet());
        Map<String, Object> shards = castMap(here.snapshot(source("lat")).metadata().get("shards"));
        assertEquals(shards, castMap(there.snapshot(source("lat")).metadata().get("shards")));
        long bytes = 0;
        for (String stream : java.util.stream.Stream.concat(shards.keySet().stream(), parts.keySet().stream()).toList()) {
            assertArrayEquals(there.data(stream), here.data(stream), stream + " is byte for byte what psql wrote");
            bytes += here.data(stream).length;
        }
        assertTrue(bytes > 10_000_000, "the data streams hold the rows: " + bytes);
        // LATIN1 bytes, not their UTF-8 conversion: 'ü' is one byte 0xFC
        String all = new String(here.data(parts.keySet().iterator().next()), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertTrue(all.contains("Grüße ÿ"), "the COPY text is in the database's encoding");
        assertEquals(there.snapshot(source("lat")).metadata().get("tables"), here.snapshot(source("lat")).metadata().get("tables"),
                "same rows counted per table");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Object o) {
        return (Map<String, Object>) o;
    }
}
