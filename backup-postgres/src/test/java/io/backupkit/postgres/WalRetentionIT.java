package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.ForgetManager;
import io.backupkit.ForgetResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.RetentionPolicy;
import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11, acceptance 6: WAL retention against a real server whose {@code archive_command} archives into the
 * repository. Two base backups (pg_basebackup without WAL, so recovery needs the archive) are stored as physical
 * snapshots; forgetting the older one deletes the WAL before the newer one's start (found through
 * {@link java.util.ServiceLoader}: {@link PostgresWalRetention}), and a point-in-time recovery from the remaining
 * base backup to a restore point inside the window still reaches exactly that point.
 */
class WalRetentionIT {
    private static final Pattern START = Pattern.compile("START WAL LOCATION: (\\S+) \\(file (\\S+)\\)");

    /**
     * A physical snapshot the way pitr-base stores one: the tar of {@code pg_basebackup -Ft -X none} as a stream,
     * and the metadata WAL retention reads ({@code kind}, {@code systemId}, {@code startLsn}).
     */
    record BaseBackupSource(EphemeralPostgres pg, Path work) implements BackupSource {
        @Override
        public String engine() {
            return PostgresEngine.NAME;
        }

        @Override
        public String describe() {
            return "base backup of " + pg.host() + ":" + pg.port();
        }

        @Override
        public void backup(BackupContext context) {
            try {
                Path dir = Files.createTempDirectory(work, "base");
                ServerUser.own(dir);
                Path out = dir.resolve("tar");
                // -X none: the backup needs the archive's WAL from its start on (what retention must keep)
                pg.runTool("pg_basebackup", "-D", out.toString(), "-Ft", "-X", "none", "-c", "fast", "--no-sync");
                Path tar = out.resolve("base.tar");
                String label = run(List.of("tar", "-xOf", tar.toString(), "backup_label"));
                Matcher m = START.matcher(label);
                assertTrue(m.find(), label);
                context.putMetadata("kind", "physical");
                context.putMetadata("systemId", pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
                context.putMetadata("timeline", 1);
                context.putMetadata("startLsn", m.group(1));
                context.putMetadata("startWal", m.group(2));
                try (OutputStream o = context.newStream("base.tar"); InputStream in = Files.newInputStream(tar)) {
                    in.transferTo(o);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Writes a snapshot's base.tar to a file. */
    record TarTarget(Path file) implements RestoreTarget {
        @Override
        public String engine() {
            return PostgresEngine.NAME;
        }

        @Override
        public String describe() {
            return file.toString();
        }

        @Override
        public RestorePlan plan(RestoreContext context) {
            return new RestorePlan(describe(), List.of("write base.tar"), 0);
        }

        @Override
        public void restore(RestoreContext context) {
            try (InputStream in = context.openStream("base.tar"); OutputStream out = Files.newOutputStream(file)) {
                in.transferTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static String run(List<String> command) throws IOException {
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

    private static String backup(Repository repo, EphemeralPostgres pg, Path work) {
        return BackupManager.builder().repository(repo).source(new BaseBackupSource(pg, work)).build().backup().snapshotId();
    }

    private static void switchWal(EphemeralPostgres pg, int times) {
        for (int i = 0; i < times; i++) {
            pg.execute("postgres", "INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 2000) i");
            String last = WalArchiveCommandIT.currentWalFile(pg);
            pg.execute("postgres", "SELECT pg_switch_wal()");
            WalArchiveCommandIT.awaitArchived(pg, last, 180);
        }
    }

    @Test
    void forgettingTheOldestBaseBackup_expiresTheWalBeforeTheNextOnesStart_andPitrInsideTheWindowStillWorks(@TempDir Path dir)
            throws IOException {
        Path tools = dir.resolve("cp");
        String walTool = WalArchiveCommandIT.walToolScript(tools);
        WalArchiveCommandIT.Setup s = WalArchiveCommandIT.repository(dir.resolve("r"));
        Path work = dir.resolve("work");
        Files.createDirectories(work);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + walTool + " push " + s.repoArgs() + " %p'").start();
             Repository repo = s.open()) {
            pg.execute("postgres", "CREATE TABLE t (id int, v text)");
            long sysid = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
            String first = backup(repo, pg, work);
            switchWal(pg, 3);
            String second = backup(repo, pg, work);
            Snapshot kept = repo.snapshots().get(second);
            String keepFromWal = (String) kept.metadata().get("startWal");
            // inside the window that remains: after the second base backup
            pg.execute("postgres", "INSERT INTO t VALUES (-1, 'before the restore point')");
            pg.execute("postgres", "SELECT pg_create_restore_point('inside')");
            String expected = pg.queryForString("postgres", "SELECT count(*) || ':' || sum(id) FROM t");
            pg.execute("postgres", "INSERT INTO t VALUES (-2, 'after the restore point')");
            switchWal(pg, 1);

            WalArchive wal = WalArchive.of(repo);
            List<String> before = wal.files(sysid).stream().map(WalArchive.WalFile::fileName).toList();
            List<String> older = before.stream().filter(n -> n.substring(0, 24).compareTo(keepFromWal) < 0).toList();
            assertTrue(older.size() >= 3, "WAL older than the second base backup was archived: " + before);

            RetentionPolicy keepLast = RetentionPolicy.builder().keepLast(1).build();
            ForgetResult dry = ForgetManager.builder().repository(repo).policy(keepLast).dryRun(true).build().forget();
            assertEquals(1, dry.logs().size(), "PostgresWalRetention is found through ServiceLoader: " + dry.logs());
            assertEquals(PostgresEngine.NAME, dry.logs().get(0).engine());
            assertEquals(older.size(), dry.logObjectsExpired(), dry.logs().toString());
            assertEquals(before, wal.files(sysid).stream().map(WalArchive.WalFile::fileName).toList(), "a dry run deletes no WAL");

            ForgetResult r = ForgetManager.builder().repository(repo).policy(keepLast).build().forget();
            assertEquals(List.of(first), r.removed().stream().map(x -> x.id()).toList());
            assertEquals(dry.logs().get(0).objects(), r.logs().get(0).objects(), "the dry run said exactly what goes");
            assertEquals(dry.logBytesExpired(), r.logBytesExpired());
            assertTrue(r.logBytesExpired() > 0);
            assertTrue(r.logs().get(0).notes().get(0).contains("WAL kept from " + kept.metadata().get("startLsn")), r.logs().toString());
            List<String> after = wal.files(sysid).stream().map(WalArchive.WalFile::fileName).toList();
            assertTrue(after.stream().allMatch(n -> n.substring(0, 24).compareTo(keepFromWal) >= 0), after.toString());
            assertEquals(before.size() - older.size(), after.size(), after.toString());
            assertFalse(after.isEmpty());

            // point-in-time recovery from the remaining base backup, through restore_command, to the restore point
            Path tar = work.resolve("restored.tar");
            RestoreManager.builder().repository(repo).snapshot("latest").target(new TarTarget(tar)).build().restore();
            Path unpacked = work.resolve("unpacked");
            Files.createDirectories(unpacked);
            run(List.of("tar", "-xf", tar.toString(), "-C", unpacked.toString()));
            try (EphemeralPostgres restored = EphemeralPostgres.builder().password(pg.password()).start()) {
                restored.stopServer();
                WalArchiveCommandIT.replaceDataDirectory(unpacked, restored.dataDirectory());
                restored.writeDataFile("recovery.signal", "");
                restored.appendAutoConf(Map.of("restore_command", "'" + walTool + " fetch " + s.repoArgs() + " %f %p'",
                        "recovery_target_name", "'inside'", "recovery_target_action", "'promote'", "archive_mode", "'off'",
                        "port", Integer.toString(restored.port()), "unix_socket_directories", "'" + restored.workDirectory() + "'"));
                restored.restart();
                WalReceiverIT.awaitTrue(() -> "f".equals(restored.queryForString("postgres", "SELECT pg_is_in_recovery()")), 180,
                        () -> restored.logTail(4000));
                assertEquals(expected, restored.queryForString("postgres", "SELECT count(*) || ':' || sum(id) FROM t"),
                        "recovered exactly to the restore point");
            }
        }
    }
}
