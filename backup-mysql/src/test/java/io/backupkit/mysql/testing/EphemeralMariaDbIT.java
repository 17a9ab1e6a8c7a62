package io.backupkit.mysql.testing;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EphemeralMariaDbIT {

    @Test
    void startsWithBinlogAndPasswordOverTcp_andCleansUp() {
        Path dir;
        try (EphemeralMariaDb db = EphemeralMariaDb.builder().serverId(7).start()) {
            dir = db.dataDirectory().getParent();
            assertTrue(db.version().contains("MariaDB"), db.version());
            assertEquals("1", db.queryForString(null, "SELECT @@log_bin"));
            assertEquals("ROW", db.queryForString(null, "SELECT @@binlog_format"));
            assertEquals("7", db.queryForString(null, "SELECT @@server_id"));
            db.createDatabase("shop");
            db.execute("shop", "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)");
            assertEquals("2", db.queryForString("shop", "SELECT count(*) FROM t"));
            assertTrue(db.databaseExists("shop"));

            db.kill();
            assertFalse(db.isRunning());
            db.restart();
            assertEquals("2", db.queryForString("shop", "SELECT count(*) FROM t"));
        }
        assertFalse(Files.exists(dir), dir + " left behind");
    }

    @Test
    void reportsAGivenVersion() {
        try (EphemeralMariaDb db = EphemeralMariaDb.builder().binlog(false).reportedVersion("10.1.48-MariaDB").start()) {
            assertEquals("10.1.48-MariaDB", db.version());
            assertEquals("0", db.queryForString(null, "SELECT @@log_bin"));
        }
    }
}
