package io.backupkit.cli;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * wal-push, wal-fetch and wal-receive through the real jar: PostgreSQL's archive_command calls the
 * jar (as the server's OS user), wal-fetch's exit codes, wal-receive stopping on SIGTERM.
 */
class CliWalIT {
    static EphemeralPostgres pg;
    @TempDir
    static Path dir;
    static Path repo;
    static Path key;

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** Makes {@code path} (recursively) the server user's, as archive_command writes there. */
    static void own(Path path) throws IOException {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        UserPrincipal user = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
        try (Stream<Path> s = Files.walk(path)) {
            for (Path p : s.toList()) {
                Files.setOwner(p, user);
            }
        }
        // the junit directory above (only the directory itself)
        Files.setPosixFilePermissions(path.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @BeforeAll
    static void start() throws IOException {
        Path walDir = dir.resolve("wal");
        Files.createDirectories(walDir);
        repo = walDir.resolve("repo");
        key = walDir.resolve("key");
        CliProcess.run(Map.of(), "init", "--repo", repo.toString(), "--key-file", key.toString()).expect(0);
        own(walDir);
        pg = EphemeralPostgres.builder().setting("wal_level", "replica").setting("archive_mode", "on")
                .setting("archive_command", "'" + java() + " -jar " + CliProcess.JAR + " wal-push --repo " + repo + " --key-file " + key + " %p'")
                .start();
        pg.execute("postgres", "CREATE TABLE t (id int, v text)");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    static String switchAndAwaitArchived() {
        pg.execute("postgres", "INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i");
        String seg = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())");
        pg.execute("postgres", "SELECT pg_switch_wal()");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String last = pg.queryForString("postgres", "SELECT last_archived_wal FROM pg_stat_archiver");
            if (last != null && last.compareTo(seg) >= 0) {
                return seg;
            }
            sleep(200);
        }
        throw new AssertionError("not archived: " + pg.query("postgres", "SELECT * FROM pg_stat_archiver") + pg.logTail(3000));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void archiveCommandThroughTheJar_thenWalFetchByItsExitCodes() throws IOException {
        String seg = switchAndAwaitArchived();
        Path dest = dir.resolve("fetched");
        CliProcess.Result found = CliProcess.run(Map.of(), pg.dataDirectory(), "wal-fetch", "--repo", repo.toString(), "--key-file",
                key.toString(), "--prefetch", "0", seg, dest.toString()).expect(0);
        assertEquals("", found.stdout());
        Path original = pg.dataDirectory().resolve("pg_wal").resolve(seg);
        if (Files.exists(original)) {
            assertArrayEquals(Files.readAllBytes(original), Files.readAllBytes(dest));
        }
        assertEquals(16 * 1024 * 1024, Files.size(dest));
        // not archived: exit 1, which PostgreSQL reads as "no such file"
        CliProcess.run(Map.of(), "wal-fetch", "--repo", repo.toString(), "--key-file", key.toString(), "00000001000000FF000000FF",
                dest.toString()).expect(1);
        // real errors stop recovery: codes above 125
        Path otherKey = dir.resolve("other.key");
        CliProcess.run(Map.of(), "init", "--repo", dir.resolve("other").toString(), "--key-file", otherKey.toString()).expect(0);
        CliProcess.Result wrongKey = CliProcess.run(Map.of(), "wal-fetch", "--repo", repo.toString(), "--key-file", otherKey.toString(),
                seg, dest.toString()).expect(203);
        assertTrue(wrongKey.stderr().startsWith("backupkit wal-fetch: error: wrong key file"), wrongKey.toString());
        CliProcess.Result noRepo = CliProcess.run(Map.of(), "wal-fetch", "--repo", dir.resolve("nothing-here").toString(), "--key-file",
                key.toString(), seg, dest.toString()).expect(202);
        assertTrue(noRepo.stderr().contains("no repository at"), noRepo.toString());
        CliProcess.Result usage = CliProcess.run(Map.of(), "wal-fetch", "--repo", repo.toString(), seg).expect(202);
        assertTrue(usage.stderr().contains("Missing required parameter: 'DEST'"), usage.toString());
    }

    @Test
    void walPush_ofAnotherClustersSegment_isRefusedWithExit2() throws IOException {
        switchAndAwaitArchived();
        try (EphemeralPostgres other = EphemeralPostgres.builder().start()) {
            other.execute("postgres", "SELECT pg_switch_wal()");
            Path walDir = other.dataDirectory().resolve("pg_wal");
            String seg;
            try (Stream<Path> s = Files.list(walDir)) {
                seg = s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}")).sorted().findFirst().orElseThrow();
            }
            Path copy = dir.resolve(seg);
            Files.copy(walDir.resolve(seg), copy);
            CliProcess.Result r = CliProcess.run(Map.of(), "wal-push", "--repo", repo.toString(), "--key-file", key.toString(),
                    copy.toString()).expect(2);
            String otherId = other.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()");
            assertTrue(r.stderr().startsWith("backupkit wal-push: error: WAL segment " + copy + " is from cluster " + otherId
                    + ", but repository "), r.toString());
            assertTrue(r.stderr().contains("allow it once with --new-cluster. Nothing was archived."), r.toString());
        }
    }

    @Test
    void walReceive_streamsUntilSigterm_thenStoresWhatItHasAndExits0() throws Exception {
        // its own repository: this JVM's user writes it, archive_command's repository belongs to the server's user
        Path receiveRepo = dir.resolve("receive-repo");
        Path receiveKey = dir.resolve("receive.key");
        CliProcess.run(Map.of(), "init", "--repo", receiveRepo.toString(), "--key-file", receiveKey.toString()).expect(0);
        List<String> cmd = new ArrayList<>(List.of(java(), "-jar", CliProcess.JAR.toString(), "wal-receive", "--repo", receiveRepo.toString(),
                "--key-file", receiveKey.toString(), "--db", "postgresql://" + pg.user() + "@127.0.0.1:" + pg.port() + "/postgres",
                "--slot", "cli_receiver", "--create-slot"));
        Path out = dir.resolve("receive.out");
        Path err = dir.resolve("receive.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("BACKUPKIT_DB_PASSWORD", pg.password());
        Process p = pb.start();
        try {
            awaitContains(err, "streaming WAL of cluster ", p);
            pg.execute("postgres", "INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i");
            pg.execute("postgres", "SELECT pg_switch_wal()");
            awaitContains(err, "stored 0000000100000000", p);
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "stopped within 2 minutes");
            assertEquals(0, p.exitValue(), Files.readString(err));
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            assertTrue(stdout.startsWith("stopped: WAL stored up to "), stdout + Files.readString(err));
            assertEquals("f", pg.queryForString("postgres", "SELECT active FROM pg_replication_slots WHERE slot_name = 'cli_receiver'"));
        } finally {
            p.destroyForcibly();
            pg.execute("postgres", "SELECT pg_drop_replication_slot('cli_receiver')");
        }
    }

    @Test
    void walReceive_withoutTheSlot_saysHowToCreateIt() {
        Path receiveRepo = dir.resolve("receive-repo-2");
        Path receiveKey = dir.resolve("receive-2.key");
        CliProcess.run(Map.of(), "init", "--repo", receiveRepo.toString(), "--key-file", receiveKey.toString()).expect(0);
        CliProcess.Result r = CliProcess.run(Map.of("BACKUPKIT_DB_PASSWORD", pg.password()), "wal-receive", "--repo", receiveRepo.toString(),
                "--key-file", receiveKey.toString(), "--db", "postgresql://" + pg.user() + "@127.0.0.1:" + pg.port() + "/postgres",
                "--slot", "absent").expect(2);
        assertTrue(r.stderr().startsWith("backupkit: replication slot 'absent' does not exist on 127.0.0.1:" + pg.port()
                + ": create it with --create-slot"), r.toString());
    }

    static void awaitContains(Path file, String text, Process p) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            if (!p.isAlive()) {
                throw new AssertionError("wal-receive exited " + p.exitValue() + ": " + Files.readString(file));
            }
            sleep(100);
        }
        throw new AssertionError("no '" + text + "' in " + Files.readString(file));
    }
}
