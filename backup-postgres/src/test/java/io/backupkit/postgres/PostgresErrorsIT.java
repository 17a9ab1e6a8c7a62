package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.backupkit.postgres.PgTestSupport.source;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every error case of issue 3, with the message a user sees (acceptance 6). */
class PostgresErrorsIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        pg.createDatabase("app");
        pg.execute("app", "CREATE TABLE t AS SELECT i FROM generate_series(1, 1000) i");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void wrongPassword_saysAuthenticationFailed_withoutThePassword() {
        String wrong = "not-the-Secret-42";
        PostgresSource source = PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(wrong.toCharArray()).build();
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> source.backup(new InMemoryBackup(2)));
        assertTrue(e.getMessage().startsWith("authentication failed for user postgres on 127.0.0.1:" + pg.port()), e.getMessage());
        assertFalse(e.getMessage().contains(wrong));
        assertFalse(source.describe().contains(wrong) || source.toString().contains(wrong));
    }

    @Test
    void passwordInUrl_neverShowsInDescriptions() {
        PostgresSource s = PostgresSource.builder().url("postgresql://postgres:" + pg.password() + "@127.0.0.1:" + pg.port() + "/app").build();
        assertFalse(s.describe().contains(pg.password()), s.describe());
        PostgresTarget t = PostgresTarget.builder().url("jdbc:postgresql://127.0.0.1:" + pg.port() + "/x?password=" + pg.password()).build();
        assertFalse(t.describe().contains(pg.password()), t.describe());
        // and it works: the password from the URL reaches pg_dump through the environment
        InMemoryBackup ctx = new InMemoryBackup(1);
        s.backup(ctx);
        assertTrue(ctx.snapshot(s).stream("data-0001").isPresent());
    }

    @Test
    void missingDatabase_saysWhichDatabase() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> source(pg, "nope").backup(new InMemoryBackup(2)));
        assertTrue(e.getMessage().startsWith("database nope does not exist on 127.0.0.1:" + pg.port()), e.getMessage());
    }

    @Test
    void pgDumpMissing_saysWhatToInstall(@TempDir Path empty) {
        PostgresSource source = PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(pg.password().toCharArray())
                .toolDirectory(empty).build();
        EngineException e = assertThrows(EngineException.class, () -> source.backup(new InMemoryBackup(2)));
        assertTrue(e.getMessage().startsWith("pg_dump not found or not executable at " + empty.resolve("pg_dump")), e.getMessage());
        assertTrue(e.getMessage().contains("install the PostgreSQL client tools"), e.getMessage());
    }

    @Test
    void pgDumpOlderThanServer_namesBothVersions(@TempDir Path tools) throws IOException {
        for (String tool : new String[] {"pg_dump", "pg_restore"}) {
            Path script = tools.resolve(tool);
            Files.writeString(script, "#!/bin/sh\necho '" + tool + " (PostgreSQL) 13.4'\n");
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        PostgresSource source = PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(pg.password().toCharArray())
                .toolDirectory(tools).build();
        EngineException e = assertThrows(EngineException.class, () -> source.backup(new InMemoryBackup(2)));
        String serverVersion = pg.queryForString("postgres", "SHOW server_version").split(" ")[0];
        assertTrue(e.getMessage().startsWith("pg_dump 13.4 at " + tools.resolve("pg_dump") + " is older than the server 127.0.0.1:"
                + pg.port() + " (PostgreSQL " + serverVersion + "); pg_dump must be at least major version 15"), e.getMessage());
    }

    @Test
    void serverGoneMidDump_failsTheBackup() throws Exception {
        try (EphemeralPostgres doomed = EphemeralPostgres.start()) {
            doomed.createDatabase("big");
            doomed.execute("big", "CREATE TABLE a AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 200000) i;"
                    + "CREATE TABLE b AS SELECT i, repeat('y', 200) AS pad FROM generate_series(1, 200000) i");
            CountDownLatch writing = new CountDownLatch(1);
            CountDownLatch killed = new CountDownLatch(1);
            InMemoryBackup inner = new InMemoryBackup(2);
            // hold pg_dump mid-table until the server has been killed
            BackupContext stalling = ForwardingBackupContext.holdingDataStreams(inner, writing, killed);
            Thread killer = new Thread(() -> {
                try {
                    writing.await(60, TimeUnit.SECONDS);
                    doomed.kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    killed.countDown();
                }
            });
            killer.start();
            BackupException e = assertThrows(BackupException.class, () -> source(doomed, "big").backup(stalling));
            killer.join();
            assertTrue(e instanceof EngineException, e.toString());
            assertTrue(e.getMessage().contains("failed"), e.getMessage());
            assertTrue(e.getMessage().contains(doomed.port() + "/big"), e.getMessage());
        }
    }

    @Test
    void serverGoneMidBackup_throughTheRepository_leavesNoSnapshot(@TempDir Path dir) throws Exception {
        try (EphemeralPostgres doomed = EphemeralPostgres.start();
             Repository repo = Repository.builder().location(dir.resolve("repo").toString()).password("pw".toCharArray()).openOrCreate()) {
            doomed.createDatabase("big");
            doomed.execute("big", "CREATE TABLE a AS SELECT i, repeat(md5(i::text), 8) AS pad FROM generate_series(1, 400000) i;"
                    + "CREATE TABLE b AS SELECT i, repeat(md5(i::text), 8) AS pad FROM generate_series(1, 400000) i");
            CountDownLatch started = new CountDownLatch(1);
            Thread killer = new Thread(() -> {
                try {
                    started.await(60, TimeUnit.SECONDS);
                    // kill as soon as a dump process is connected and streaming
                    for (int i = 0; i < 2000; i++) {
                        if (!doomed.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'backupkit-%data-0%'")
                                .isEmpty()) {
                            break;
                        }
                        Thread.sleep(2);
                    }
                    doomed.kill();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            killer.start();
            started.countDown();
            BackupException e = assertThrows(BackupException.class, () -> BackupManager.builder().repository(repo)
                    .source(source(doomed, "big")).parallelism(2).build().backup());
            killer.join();
            assertTrue(e.getMessage().contains("big"), e.getMessage());
            assertEquals(List.of(), repo.snapshots().list(), "a failed backup lists no snapshot");
        }
    }

    @Test
    void conflictingTargetOptions_areRejectedAtBuild() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> PostgresTarget.builder().url(pg.jdbcUrl("x")).schemaOnly().dataOnly().build());
        assertEquals("schemaOnly() and dataOnly() exclude each other", e.getMessage());
        assertThrows(ConfigurationException.class, () -> PostgresTarget.builder().url("mysql://x/y").build());
    }
}
