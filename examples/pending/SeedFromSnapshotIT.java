package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.postgres.testing.PostgresDatabaseExtension;
import io.backupkit.postgres.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A JUnit 5 test suite seeded from a snapshot: every test gets its own database, a file copy of the
 * snapshot restored once for the class, so tests can change data freely and never see each other.
 *
 * <p>In a real suite the repository is where the nightly (anonymised) backups go and the supplier just
 * opens it; here one is made on the spot from a throwaway "production" server.
 */
class SeedFromSnapshotIT {
    private static final char[] REPO_PASSWORD = "seed example password".toCharArray();
    private static final Path REPO = tempDir();

    @RegisterExtension
    static PostgresDatabaseExtension pg = PostgresDatabaseExtension.builder()
            .seedFrom(SeedFromSnapshotIT::openRepositoryWithASnapshot, "latest")
            .build();

    @Test
    void aTestSeesTheSnapshotsData_andMayChangeIt(TestDatabase db) {
        assertEquals("1000", db.queryForString("SELECT count(*) FROM accounts"));
        db.execute("UPDATE accounts SET balance = 0");
        assertEquals("0", db.queryForString("SELECT sum(balance) FROM accounts"));
    }

    @Test
    void anotherTest_getsAFreshCopy(TestDatabase db) {
        assertEquals("1000", db.queryForString("SELECT count(*) FROM accounts"));
        assertEquals("500500", db.queryForString("SELECT sum(balance) FROM accounts"));
        db.execute("DELETE FROM accounts");
    }

    static Repository openRepositoryWithASnapshot() {
        try (EphemeralPostgres production = EphemeralPostgres.builder().start()) {
            production.createDatabase("bank");
            production.execute("bank", "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance bigint NOT NULL);"
                    + "INSERT INTO accounts SELECT g, 'owner ' || g, g FROM generate_series(1, 1000) g");
            try (Repository repo = Repository.builder().location(REPO.toString()).password(REPO_PASSWORD).create()) {
                BackupManager.builder().repository(repo)
                        .source(PostgresSource.builder().url(production.jdbcUrl("bank")).user(production.user())
                                .password(production.password().toCharArray()).build())
                        .build().backup();
            }
        }
        return Repository.builder().location(REPO.toString()).password(REPO_PASSWORD).open();
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("backupkit-seed-example");
            dir.toFile().deleteOnExit();
            return dir.resolve("repo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
