package io.backupkit.postgres.testing;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.postgres.PostgresSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The extension seeds every test's database from a snapshot: one restore per class, a file copy per test. */
class SeededDatabaseExtensionIT {
    static Path repoDir;

    @RegisterExtension
    static PostgresDatabaseExtension pg = PostgresDatabaseExtension.builder()
            .seedFrom(SeededDatabaseExtensionIT::repositoryWithOneSnapshot, "latest")
            .build();

    /** Makes the seed: a database on another throw-away server, backed up into a fresh repository. */
    static Repository repositoryWithOneSnapshot() {
        try {
            repoDir = Files.createTempDirectory("seed-repo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Repository repo = Repository.builder().location(repoDir.toString()).password("seed".toCharArray()).create();
        try (EphemeralPostgres source = EphemeralPostgres.start()) {
            source.createDatabase("fixture");
            source.execute("fixture", "CREATE TABLE products (id int PRIMARY KEY, name text);"
                    + "INSERT INTO products SELECT i, 'product ' || i FROM generate_series(1, 1000) i");
            BackupManager.builder().repository(repo).parallelism(2)
                    .source(PostgresSource.builder().url(source.jdbcUrl("fixture")).user(source.user())
                            .password(source.password().toCharArray()).build())
                    .build().backup();
        }
        return repo;
    }

    @AfterAll
    static void removeRepository() throws IOException {
        try (Stream<Path> files = Files.walk(repoDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void testGetsTheSeedData_andMayChangeIt(TestDatabase db) {
        assertEquals("1000", db.queryForString("SELECT count(*) FROM products"));
        db.execute("DELETE FROM products WHERE id > 10");
    }

    @Test
    void nextTestGetsTheSeedAgain(TestDatabase db) {
        assertEquals("1000", db.queryForString("SELECT count(*) FROM products"));
        db.execute("DELETE FROM products");
    }
}
