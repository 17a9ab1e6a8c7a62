package io.backupkit.postgres.testing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EphemeralPostgresIT {

    @Test
    void startsOnLoopbackWithPasswordAuth_andRemovesEverythingOnClose() throws Exception {
        Path dataDir;
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("work_mem", "'8MB'").start()) {
            dataDir = pg.dataDirectory();
            assertEquals("127.0.0.1", pg.host());
            assertEquals(15, pg.majorVersion());
            assertEquals("off", pg.queryForString("postgres", "SHOW fsync"));
            assertEquals("8MB", pg.queryForString("postgres", "SHOW work_mem"));
            pg.createDatabase("shop");
            pg.execute("shop", "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2)");
            assertEquals("2", pg.queryForString("shop", "SELECT count(*) FROM t"));
            assertTrue(pg.psql("shop", "-At", "-c", "SELECT sum(id) FROM t").strip().equals("3"));
            assertTrue(pg.uri("shop").startsWith("postgresql://127.0.0.1:"));
            Properties wrong = new Properties();
            wrong.setProperty("user", pg.user());
            wrong.setProperty("password", "wrong");
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(pg.jdbcUrl("shop"), wrong).close());
            assertEquals("28P01", e.getSQLState());
            try (Connection c = pg.connect("shop")) {
                assertTrue(c.isValid(1));
            }
        }
        assertFalse(Files.exists(dataDir), "the cluster directory is removed on close");
    }

    @Test
    void missingBinaries_sayWhatToInstall(@TempDir Path empty) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> EphemeralPostgres.builder().binDirectory(empty).start());
        assertTrue(e.getMessage().startsWith("PostgreSQL server binaries not found: " + empty.resolve("initdb") + " is missing"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install postgresql-15"), e.getMessage());
    }
}
