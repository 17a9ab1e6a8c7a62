package io.backupkit.mysql.testing;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.mysql.MySqlSource;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MariaDbDatabaseExtensionIT {
    private static final Path REPO = createSeed();
    private static String firstName;

    @RegisterExtension
    static MariaDbDatabaseExtension mariadb = MariaDbDatabaseExtension.builder()
            .seedFrom(() -> Repository.builder().location(REPO.toString()).password("seed".toCharArray()).open(), "latest")
            .build();

    /** A repository with one snapshot of a small "shop" database, made on a server of its own. */
    private static Path createSeed() {
        try (EphemeralMariaDb source = EphemeralMariaDb.builder().binlog(false).start()) {
            Path dir = Files.createTempDirectory("backupkit-seed-").resolve("repo");
            source.createDatabase("shop");
            source.execute("shop", "CREATE TABLE products (id int PRIMARY KEY, name varchar(20)); INSERT INTO products VALUES (1, 'tea'), (2, 'cake');"
                    + "CREATE VIEW cheap AS SELECT * FROM products WHERE id = 1");
            try (Repository repo = Repository.builder().location(dir.toString()).password("seed".toCharArray()).create()) {
                BackupManager.builder().repository(repo).source(MySqlSource.builder().url(source.uri("shop")).user(source.user())
                        .password(source.password().toCharArray()).build()).build().backup();
            }
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    void eachTestGetsTheSeededDatabase_andMayChangeIt(TestDatabase db, MySqlServer server) {
        firstName = db.name();
        assertEquals("2", db.queryForString("SELECT count(*) FROM products"));
        assertEquals("tea", db.queryForString("SELECT name FROM cheap"));
        db.execute("DELETE FROM products");
        assertTrue(server.databaseExists(db.name()));
    }

    @Test
    @Order(2)
    void theNextTestStartsFromTheSeedAgain(TestDatabase db, MySqlServer server) {
        assertNotEquals(firstName, db.name());
        assertFalse(server.databaseExists(firstName), "the previous test's database was not dropped");
        assertEquals("2", db.queryForString("SELECT count(*) FROM products"));
        assertTrue(db.uri().startsWith("mariadb://127.0.0.1:"), db.uri());
    }
}
