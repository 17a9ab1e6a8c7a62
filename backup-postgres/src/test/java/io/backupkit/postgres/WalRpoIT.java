package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Acceptance 2 (RPO): with wal-receive running, a committed row is recoverable after the receiver
 * and the server are both killed with SIGKILL 10 s later — recovered by PostgreSQL itself from a
 * base backup and restore_command, which gets the last segment as a zero-padded partial.
 */
class WalRpoIT {
    @TempDir
    Path dir;

    @Test
    void aRowCommitted10SecondsBeforeBothAreKilled_isRecovered() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create().close();
        String walTool = WalArchiveCommandIT.walToolScript(dir.resolve("cp"));
        String password = "rpo-" + System.nanoTime();
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("wal_level", "replica").password(password).start()) {
            pg.execute("postgres", "CREATE TABLE orders (id int PRIMARY KEY, note text)");
            pg.execute("postgres", "INSERT INTO orders SELECT i, 'before' FROM generate_series(1, 1000) i");
            Path base = dir.resolve("base");
            Files.createDirectories(base);
            ServerUser.own(base);
            pg.runTool("pg_basebackup", "-D", base.toString(), "-c", "fast", "-X", "stream", "--no-sync");
            Process receiver = WalReceiverChild.start(repoDir, keyFile, pg.jdbcUrl("postgres"), pg.user(), pg.password(), "rpo", 5000,
                    dir.resolve("receiver.log"));
            try {
                pg.execute("postgres", "INSERT INTO orders SELECT i, 'after' FROM generate_series(1001, 1500) i");
                pg.execute("postgres", "INSERT INTO orders VALUES (424242, 'the committed row')");
                Thread.sleep(10_000); // the acceptance's ten seconds between the commit and the crash
            } finally {
                receiver.destroyForcibly(); // SIGKILL
                receiver.waitFor();
            }
            pg.killHard();
        }
        // recovery by PostgreSQL from the base backup and the archive only
        ServerUser.own(dir);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        try (EphemeralPostgres restored = EphemeralPostgres.builder().password(password).start()) {
            restored.stopServer();
            WalArchiveCommandIT.replaceDataDirectory(dir.resolve("base"), restored.dataDirectory());
            restored.writeDataFile("recovery.signal", "");
            restored.appendAutoConf(Map.of("restore_command", "'" + walTool + " fetch --repo " + repoDir + " --key-file " + keyFile + " %f %p'",
                    "recovery_target_action", "'promote'", "port", Integer.toString(restored.port()),
                    "unix_socket_directories", "'" + restored.workDirectory() + "'"));
            restored.restart();
            WalReceiverIT.awaitTrue(() -> "f".equals(restored.queryForString("postgres", "SELECT pg_is_in_recovery()")), 180,
                    () -> restored.logTail(4000));
            assertEquals("the committed row", restored.queryForString("postgres", "SELECT note FROM orders WHERE id = 424242"));
            assertEquals("1501", restored.queryForString("postgres", "SELECT count(*) FROM orders"));
        }
    }

}
