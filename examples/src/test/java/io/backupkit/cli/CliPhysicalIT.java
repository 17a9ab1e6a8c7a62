package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The physical commands through the real jar: backup --physical, list and show with LSNs and the
 * recoverable window, restore --pgdata to a time (then the restored server is started and checked),
 * the refusal of a non-empty --pgdata, and comprehensive verification of a base backup.
 */
class CliPhysicalIT {
    private static final String PASSWORD = "it-physical-password";
    static EphemeralPostgres pg;
    static Path root;
    static Path repo;
    static Path spool;
    static long systemId;

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        env.put("BACKUPKIT_DB_PASSWORD", pg.password());
        return env;
    }

    static String url() {
        return "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/postgres";
    }

    @BeforeAll
    static void start() throws IOException {
        root = Files.createTempDirectory("backupkit-cli-physical-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        spool = Files.createDirectories(root.resolve("archive"));
        Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        repo = root.resolve("repo");
        pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'cp %p " + spool + "/%f.tmp && mv " + spool + "/%f.tmp " + spool + "/%f'").start();
        systemId = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier::text FROM pg_control_system()"));
        pg.createDatabase("shop");
        pg.execute("shop", DemoCommand.sampleSchemaAndData(2000));
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
    }

    @AfterAll
    static void stop() throws IOException {
        if (pg != null) {
            pg.close();
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Stores the WAL archive_command copied, as wal-push would (the wal-* commands have their own tests). */
    private static void pushArchived() throws IOException {
        String name = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!Files.exists(spool.resolve(name)) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        try (Repository r = Repository.builder().location(repo.toString()).keyProvider(KeyProviders.password(PASSWORD.toCharArray())).open();
             Stream<Path> files = Files.list(spool)) {
            WalArchive wal = WalArchive.builder().repository(r).systemId(systemId).build();
            for (Path p : files.filter(f -> !f.toString().endsWith(".tmp")).sorted().toList()) {
                wal.push(p);
            }
        }
    }

    private static Instant serverNow() {
        return Instant.parse(pg.queryForString("postgres", "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                + "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
    }

    @Test
    void backupPhysical_listShow_restoreToATime_verify() throws Exception {
        CliProcess.Result backup = CliProcess.run(env(), "backup", "--physical", "--repo", repo.toString(), "--db", url()).expect(0);
        assertTrue(backup.stdout().contains(" backup of cluster " + systemId + " (PostgreSQL "), backup.toString());
        JsonNode list0 = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json();
        JsonNode snap = list0.path("snapshots").get(0);
        String id = snap.path("id").asText();
        assertEquals(Long.toUnsignedString(systemId), snap.path("physical").path("systemId").asText());
        assertTrue(snap.path("physical").path("stopLsn").asText().matches("[0-9A-F]+/[0-9A-F]+"), snap.toString());

        pg.execute("shop", "CREATE TABLE marks (id int PRIMARY KEY); INSERT INTO marks VALUES (1)");
        Thread.sleep(20);
        Instant t = serverNow();
        Thread.sleep(20);
        pg.execute("shop", "INSERT INTO marks VALUES (2)");
        pushArchived();

        CliProcess.Result list = CliProcess.run(env(), "list", "--repo", repo.toString()).expect(0);
        assertTrue(list.stdout().contains("BASE BACKUP") && list.stdout().contains("RECOVERABLE")
                && list.stdout().contains("cluster " + systemId), list.toString());
        JsonNode windows = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json().path("windows");
        assertEquals(1, windows.size(), windows.toString());
        assertEquals(1, windows.get(0).path("timeline").asInt());
        assertTrue(Instant.parse(windows.get(0).path("toTime").asText()).isAfter(t), windows.toString());
        CliProcess.Result show = CliProcess.run(env(), "show", "--repo", repo.toString(), id.substring(0, 8)).expect(0);
        assertTrue(show.stdout().contains("startLsn") && show.stdout().contains("RECOVERABLE"), show.toString());

        Path pgdata = root.resolve("restored");
        CliProcess.Result restore = CliProcess.run(env(), "restore", "--repo", repo.toString(), "latest", "--pgdata", pgdata.toString(),
                "--to-time", t.toString(), "--target-action", "promote").expect(0);
        assertTrue(restore.stdout().startsWith("restored base backup " + id.substring(0, 8) + " into " + pgdata), restore.toString());
        assertTrue(restore.stdout().contains("next: pg_ctl -D " + pgdata + " start"), restore.toString());
        try (EphemeralPostgres restored = EphemeralPostgres.builder().existingDataDirectory(pgdata).user(pg.user()).password(pg.password())
                .startTimeout(Duration.ofMinutes(5)).start()) {
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (!"f".equals(restored.queryForString("postgres", "SELECT pg_is_in_recovery()")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(List.of(List.of("1")), restored.query("shop", "SELECT id FROM marks ORDER BY id"));
        }

        Path busy = Files.createDirectories(root.resolve("busy"));
        Files.writeString(busy.resolve("PG_VERSION"), "15\n");
        CliProcess.Result refused = CliProcess.run(env(), "restore", "--repo", repo.toString(), "latest", "--pgdata", busy.toString(),
                "--to-immediate").expect(2);
        assertTrue(refused.stderr().contains("the data directory " + busy + " is not empty (it holds PG_VERSION); restore only into an "
                + "empty or new directory. Nothing was written."), refused.toString());
        assertFalse(Files.exists(root.resolve("busy.backupkit")));

        CliProcess.Result verify = CliProcess.run(env(), "verify", "--repo", repo.toString(), id.substring(0, 8), "--level", "comprehensive")
                .expect(0);
        assertTrue(verify.stdout().contains("PASSED  amcheck") && verify.stdout().contains("verification passed"), verify.toString());
    }
}
