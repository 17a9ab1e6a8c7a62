package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.BackupManager;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code forget} through the jar expires the WAL the remaining base backups do not need and says so, in text and
 * in {@code --json}; WAL archived by the jar's {@code wal-push} as PostgreSQL's {@code archive_command}. The base
 * backups are stored as physical snapshots by the library (pg_basebackup's tar and the metadata pitr-base records),
 * so this test does not depend on the physical backup command.
 */
class CliWalRetentionIT {
    private static final Pattern START = Pattern.compile("START WAL LOCATION: (\\S+) \\(file (\\S+)\\)");

    @TempDir
    static Path dir;

    private static String run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(command + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }

    /** pg_basebackup -Ft -X none as a physical snapshot (stream base.tar; kind, systemId, startLsn, startWal). */
    private static String baseBackup(Repository repo, EphemeralPostgres pg, Path work) {
        BackupSource source = new BackupSource() {
            @Override
            public String engine() {
                return "postgresql";
            }

            @Override
            public String describe() {
                return "postgresql://" + pg.host() + ":" + pg.port() + "/ (base backup)";
            }

            @Override
            public void backup(BackupContext context) {
                try {
                    Path out = Files.createTempDirectory(work, "base");
                    CliWalIT.own(out);
                    Path tarDir = out.resolve("tar");
                    pg.runTool("pg_basebackup", "-D", tarDir.toString(), "-Ft", "-X", "none", "-c", "fast", "--no-sync");
                    Path tar = tarDir.resolve("base.tar");
                    Matcher m = START.matcher(run(List.of("tar", "-xOf", tar.toString(), "backup_label")));
                    assertTrue(m.find());
                    context.putMetadata("kind", "physical");
                    context.putMetadata("systemId", pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
                    context.putMetadata("startLsn", m.group(1));
                    context.putMetadata("startWal", m.group(2));
                    try (OutputStream o = context.newStream("base.tar"); InputStream in = Files.newInputStream(tar)) {
                        in.transferTo(o);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        return BackupManager.builder().repository(repo).source(source).build().backup().snapshotId();
    }

    private static void switchAndArchive(EphemeralPostgres pg) {
        pg.execute("postgres", "INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 5000) i");
        String seg = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())");
        pg.execute("postgres", "SELECT pg_switch_wal()");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String last = pg.queryForString("postgres", "SELECT last_archived_wal FROM pg_stat_archiver");
            if (last != null && last.compareTo(seg) >= 0) {
                return;
            }
            CliWalIT.sleep(200);
        }
        throw new AssertionError("not archived: " + pg.query("postgres", "SELECT * FROM pg_stat_archiver") + pg.logTail(3000));
    }

    private static List<String> walFiles(Repository repo, long sysid) {
        return WalArchive.of(repo).files(sysid).stream().map(WalArchive.WalFile::fileName).toList();
    }

    @Test
    void forgetKeepLast1_expiresTheWalBeforeTheRemainingBaseBackup_textAndJsonSayWhat() throws IOException {
        Path walDir = dir.resolve("wal");
        Files.createDirectories(walDir);
        Path repoDir = walDir.resolve("repo");
        Path key = walDir.resolve("key");
        Path work = walDir.resolve("work");
        CliProcess.run(Map.of(), "init", "--repo", repoDir.toString(), "--key-file", key.toString()).expect(0);
        Files.createDirectories(work);
        CliWalIT.own(walDir);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + CliWalIT.java() + " -jar " + CliProcess.JAR + " wal-push --repo " + repoDir
                        + " --key-file " + key + " %p'").start();
             Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(key).open()) {
            pg.execute("postgres", "CREATE TABLE t (id int, v text)");
            long sysid = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
            String first = baseBackup(repo, pg, work);
            String firstStart = (String) repo.snapshots().get(first).metadata().get("startWal");
            switchAndArchive(pg);
            switchAndArchive(pg);
            String second = baseBackup(repo, pg, work);
            String keepFrom = (String) repo.snapshots().get(second).metadata().get("startWal");
            switchAndArchive(pg);
            List<String> before = walFiles(repo, sysid);
            List<String> older = before.stream().filter(n -> n.substring(0, 24).compareTo(keepFrom) < 0).toList();
            assertTrue(older.size() >= 3, before.toString());
            List<String> args = new ArrayList<>(List.of("forget", "--repo", repoDir.toString(), "--key-file", key.toString(),
                    "--keep-last", "1"));

            List<String> dryArgs = new ArrayList<>(args);
            dryArgs.addAll(List.of("--dry-run", "--json"));
            CliProcess.Result dryRun = CliProcess.run(Map.of(), dryArgs.toArray(String[]::new)).expect(0);
            System.out.println(dryRun.stdout());
            JsonNode dry = dryRun.json();
            assertEquals(older.size(), dry.path("logObjectsExpired").asInt(), dry.toString());
            JsonNode logs = dry.path("logs").get(0);
            assertEquals("postgresql", logs.path("engine").asText());
            assertEquals(older.size(), logs.path("objects").size());
            assertTrue(logs.path("objects").get(0).asText().startsWith("wal/" + Long.toUnsignedString(sysid) + "/00000001/"), dry.toString());
            assertTrue(logs.path("bytesExpired").asLong() > 0);
            assertEquals(before, walFiles(repo, sysid), "a dry run deletes no WAL");

            // a 1-hour window: both base backups are newer than its start, so the older one (and its WAL) stays
            List<String> windowArgs = new ArrayList<>(args);
            windowArgs.addAll(List.of("--pitr-window", "1h", "--dry-run", "--json"));
            JsonNode window = CliProcess.run(Map.of(), windowArgs.toArray(String[]::new)).expect(0).json();
            assertEquals(0, window.path("snapshotsRemoved").asInt(), window.toString());
            List<String> beforeFirst = before.stream().filter(n -> n.substring(0, 24).compareTo(firstStart) < 0)
                    .map(n -> "wal/" + Long.toUnsignedString(sysid) + "/00000001/" + n).toList();
            List<String> windowExpired = new ArrayList<>();
            window.path("logs").get(0).path("objects").forEach(o -> windowExpired.add(o.asText()));
            assertEquals(beforeFirst, windowExpired, "only the WAL from before the oldest base backup: " + window);

            args.add("--prune");
            CliProcess.Result text = CliProcess.run(Map.of(), args.toArray(String[]::new)).expect(0);
            System.out.println(text.stdout());
            assertTrue(text.stdout().contains("removed 1 of 2 snapshots"), text.toString());
            assertTrue(text.stdout().contains("postgresql logs: expired " + older.size() + " objects ("), text.toString());
            assertTrue(text.stdout().contains("cluster " + Long.toUnsignedString(sysid) + ": WAL kept from "), text.toString());
            List<String> after = walFiles(repo, sysid);
            assertEquals(before.subList(older.size(), before.size()), after, "exactly the older WAL went; prune left the rest");
            CliProcess.run(Map.of(), "check", "--repo", repoDir.toString(), "--key-file", key.toString()).expect(0);
        }
    }
}
