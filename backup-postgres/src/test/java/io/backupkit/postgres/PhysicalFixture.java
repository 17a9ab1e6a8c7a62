package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestoreResult;
import io.backupkit.postgres.PostgresDataDirectoryTarget;
import io.backupkit.postgres.PostgresPhysicalSource;
import io.backupkit.postgres.testing.EphemeralPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
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
                .keyProvider(KeyProviders.password(PASSWORD, 8 * 1024, 1, 1)).create();
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

    @Override
    public void close() {
        repo.close();
        delete(root);
    }

    static void delete(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try {
            Files.walkFileTree(p, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // leftovers in /tmp are harmless
        }
    }
}
