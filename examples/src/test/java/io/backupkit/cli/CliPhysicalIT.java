package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
 * The physical commands through the real jar, with WAL archived by the real {@code wal-push} as
 * archive_command and a key-file repository: backup --physical, list and show with LSNs and the
 * recoverable window, restore --pgdata to a time (then the restored server is started and checked),
 * the refusal of a non-empty --pgdata, and comprehensive verification of a base backup.
 */
class CliPhysicalIT {
    static EphemeralPostgres pg;
    static Path root;
    static Path repo;
    static Path keyFile;
    static long systemId;

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        if (pg != null) {
            env.put("BACKUPKIT_DB_PASSWORD", pg.password());
        }
        return env;
    }

    /** Repository options: the key file (no password anywhere). */
    static String[] repo(String... args) {
        String[] all = new String[args.length + 4];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--repo";
        all[args.length + 1] = repo.toString();
        all[args.length + 2] = "--key-file";
        all[args.length + 3] = keyFile.toString();
        return all;
    }

    static String url() {
        return "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/postgres";
    }

    @BeforeAll
    static void start() throws IOException {
        root = Files.createTempDirectory("backupkit-cli-physical-");
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        repo = root.resolve("repo");
        keyFile = root.resolve("repo.key");
        // the repository opens with a key file the server's user can read: its archive_command is the CLI's wal-push
        CliProcess.run(env(), "init", "--repo", repo.toString(), "--key-file", keyFile.toString()).expect(0);
        ServerFiles.giveTo("postgres", repo, keyFile);
        pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + Path.of(System.getProperty("java.home"), "bin", "java") + " -jar " + CliProcess.JAR
                        + " wal-push --repo " + repo + " --key-file " + keyFile + " %p'").start();
        systemId = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier::text FROM pg_control_system()"));
        pg.createDatabase("shop");
        pg.execute("shop", DemoCommand.sampleSchemaAndData(2000));
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

    /** Switches WAL and waits until archive_command (wal-push) has stored the finished segment. */
    private static void switchAndWaitArchived() throws Exception {
        String name = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        try (Repository r = Repository.builder().location(repo.toString()).keyFile(keyFile).open()) {
            WalArchive wal = WalArchive.builder().repository(r).systemId(systemId).build();
            while (wal.files(systemId).stream().noneMatch(f -> f.fileName().equals(name))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("wal-push did not archive " + name + ": " + pg.logTail(3000));
                }
                Thread.sleep(200);
            }
        }
    }

    private static Instant serverNow() {
        return Instant.parse(pg.queryForString("postgres", "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                + "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
    }

    @Test
    void backupPhysical_listShow_restoreToATime_verify() throws Exception {
        CliProcess.Result backup = CliProcess.run(env(), repo("backup", "--physical", "--db", url())).expect(0);
        assertTrue(backup.stdout().contains(" backup of cluster " + systemId + " (PostgreSQL "), backup.toString());
        JsonNode list0 = CliProcess.run(env(), repo("list", "--json")).expect(0).json();
        JsonNode snap = list0.path("snapshots").get(0);
        String id = snap.path("id").asText();
        assertEquals(Long.toUnsignedString(systemId), snap.path("physical").path("systemId").asText());
        assertTrue(snap.path("physical").path("stopLsn").asText().matches("[0-9A-F]+/[0-9A-F]+"), snap.toString());

        pg.execute("shop", "CREATE TABLE marks (id int PRIMARY KEY); INSERT INTO marks VALUES (1)");
        Thread.sleep(20);
        Instant t = serverNow();
        Thread.sleep(20);
        pg.execute("shop", "INSERT INTO marks VALUES (2)");
        switchAndWaitArchived();

        CliProcess.Result list = CliProcess.run(env(), repo("list")).expect(0);
        assertTrue(list.stdout().contains("BASE BACKUP") && list.stdout().contains("RECOVERABLE")
                && list.stdout().contains("cluster " + systemId), list.toString());
        JsonNode windows = CliProcess.run(env(), repo("list", "--json")).expect(0).json().path("windows");
        assertEquals(1, windows.size(), windows.toString());
        assertEquals(1, windows.get(0).path("timeline").asInt());
        assertTrue(Instant.parse(windows.get(0).path("toTime").asText()).isAfter(t), windows.toString());
        CliProcess.Result show = CliProcess.run(env(), repo("show", id.substring(0, 8))).expect(0);
        assertTrue(show.stdout().contains("startLsn") && show.stdout().contains("RECOVERABLE"), show.toString());

        Path pgdata = root.resolve("restored");
        CliProcess.Result restore = CliProcess.run(env(), repo("restore", "latest", "--pgdata", pgdata.toString(),
                "--to-time", t.toString(), "--target-action", "promote")).expect(0);
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
        CliProcess.Result refused = CliProcess.run(env(), repo("restore", "latest", "--pgdata", busy.toString(), "--to-immediate")).expect(2);
        assertTrue(refused.stderr().contains("the data directory " + busy + " is not empty (it holds PG_VERSION); restore only into an "
                + "empty or new directory. Nothing was written."), refused.toString());
        assertFalse(Files.exists(root.resolve("busy.backupkit")));

        CliProcess.Result verify = CliProcess.run(env(), repo("verify", id.substring(0, 8), "--level", "comprehensive"))
                .expect(0);
        assertTrue(verify.stdout().contains("PASSED  amcheck") && verify.stdout().contains("verification passed"), verify.toString());
        // WAL continuity after the base backup, per timeline, at every level (nothing downloaded at quick)
        assertTrue(verify.stdout().contains("PASSED  wal timeline 1: base backup " + id.substring(0, 8) + ", timeline 1: "), verify.toString());
        CliProcess.Result quick = CliProcess.run(env(), repo("verify", id.substring(0, 8), "--level", "quick")).expect(0);
        assertTrue(quick.stdout().contains("PASSED  wal timeline 1: base backup " + id.substring(0, 8) + ", timeline 1: ")
                && quick.stdout().contains(" archived without a gap; recovery reaches "), quick.toString());
        System.out.println("verify --level comprehensive:\n" + verify.stdout() + "\nverify --level quick:\n" + quick.stdout());
    }
}
