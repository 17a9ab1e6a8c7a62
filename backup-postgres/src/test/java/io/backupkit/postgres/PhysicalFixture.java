package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestoreResult;
import io.backupkit.postgres.PostgresDataDirectoryTarget;
import io.backupkit.postgres.PostgresPhysicalSource;
import io.backupkit.postgres.internal.FileTrees;
import io.backupkit.postgres.testing.EphemeralPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * A repository and scratch directories for physical backup tests. Scratch directories are made
 * world-traversable (0755) because restored data directories in them belong to the server's OS user.
 */
final class PhysicalFixture implements AutoCloseable {
    static final char[] PASSWORD = "physical test password".toCharArray();
    final Path root;
    final Repository repo;

    PhysicalFixture() {
        try {
            root = Files.createTempDirectory("backupkit-physical-it-");
            Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        repo = Repository.builder().location(root.resolve("repo").toString())
                .keyProvider(KeyProviders.password(PASSWORD, 19 * 1024, 2, 1)).create();
    }

    /** A new directory path under the scratch root (not created). */
    Path path(String name) {
        return root.resolve(name);
    }

    /** A new, created, world-traversable directory under the scratch root. */
    Path dir(String name) {
        try {
            Path d = Files.createDirectories(root.resolve(name));
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static PostgresPhysicalSource.Builder source(EphemeralPostgres pg) {
        return PostgresPhysicalSource.builder().url(pg.jdbcUrl("postgres")).user(pg.user()).password(pg.password().toCharArray());
    }

    BackupResult backup(PostgresPhysicalSource source) {
        return BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup();
    }

    RestoreResult restore(String snapshot, PostgresDataDirectoryTarget target) {
        return RestoreManager.builder().repository(repo).snapshot(snapshot).target(target).parallelism(2).build().restore();
    }

    /** Starts a restored data directory as the source's superuser. */
    static EphemeralPostgres startRestored(EphemeralPostgres source, Path pgdata) {
        return EphemeralPostgres.builder().existingDataDirectory(pgdata).user(source.user()).password(source.password())
                .startTimeout(Duration.ofMinutes(10)).start();
    }

    /**
     * A cluster whose archive_command copies each WAL file into {@code spool} (atomically: copy, then
     * rename); {@link #pushSpool} then stores them with the library's push, as an asynchronous pusher
     * does. The CLI's own wal-push is tested by the CLI's tests.
     */
    EphemeralPostgres startArchiving(Path spool, String... settings) {
        try {
            Files.createDirectories(spool);
            Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        EphemeralPostgres.Builder b = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + archiveCommand(spool) + "'").setting("archive_timeout", "0")
                .setting("max_wal_senders", "4").setting("max_connections", "40");
        for (int i = 0; i + 1 < settings.length; i += 2) {
            b.setting(settings[i], settings[i + 1]);
        }
        return b.start();
    }

    static String archiveCommand(Path spool) {
        return "cp %p " + spool + "/%f.tmp && mv " + spool + "/%f.tmp " + spool + "/%f";
    }

    /** Pushes every archived file of the spool (in name order) into the repository; returns how many. */
    int pushSpool(Path spool, long systemId) {
        WalArchive wal = WalArchive.builder().repository(repo).systemId(systemId).build();
        int n = 0;
        try (var s = Files.list(spool)) {
            for (Path p : s.filter(x -> !x.getFileName().toString().endsWith(".tmp")).sorted().toList()) {
                wal.push(p);
                n++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n;
    }

    /** Switches to a new WAL segment and waits until the finished one is in the spool. */
    static void switchAndWaitArchived(EphemeralPostgres pg, Path spool) {
        String name = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_switch_wal())");
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!Files.exists(spool.resolve(name))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("WAL segment " + name + " was not archived within 2 minutes: " + pg.logTail(2000));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    static long systemId(EphemeralPostgres pg) {
        return Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier::text FROM pg_control_system()"));
    }

    /** The server's clock now, as an instant (microseconds). */
    static java.time.Instant serverNow(EphemeralPostgres pg) {
        return java.time.Instant.parse(pg.queryForString("postgres",
                "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
    }

    @Override
    public void close() {
        repo.close();
        FileTrees.deleteQuietly(root);
    }
}
