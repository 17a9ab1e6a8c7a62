package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every version-dependent choice of the engine, for the versions users run. */
class ServerVersionTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // version()                          | version_comment              | flavor  | maj | min | patch
            "10.11.19-MariaDB-0+deb12u1-log        | Debian 12                    | MARIADB | 10  | 11  | 19",
            "5.5.5-10.6.16-MariaDB                 | mariadb.org binary           | MARIADB | 10  | 6   | 16",
            "11.4.2-MariaDB                        | MariaDB Server               | MARIADB | 11  | 4   | 2",
            "8.0.36                                | MySQL Community Server - GPL | MYSQL   | 8   | 0   | 36",
            "8.4.0                                 | MySQL Community Server - GPL | MYSQL   | 8   | 4   | 0",
            "8.0.35-27                             | Percona Server (GPL)         | MYSQL   | 8   | 0   | 35",
            "5.7.44-log                            | MySQL Community Server (GPL) | MYSQL   | 5   | 7   | 44",
            "10.3                                  |                              | MYSQL   | 10  | 3   | 0",
    })
    void parse_readsFlavorAndNumbers(String version, String comment, ServerVersion.Flavor flavor, int major, int minor, int patch) {
        ServerVersion v = ServerVersion.parse(version, comment);
        assertEquals(flavor, v.flavor());
        assertEquals(major, v.major());
        assertEquals(minor, v.minor());
        assertEquals(patch, v.patch());
    }

    @Test
    void parse_withoutNumbers_saysWhatItGot() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ServerVersion.parse("unknown", null));
        assertEquals("cannot read the server version 'unknown'", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.11.19-MariaDB | true  | BACKUP_STAGE",
            "10.4.1-MariaDB   | true  | BACKUP_STAGE",
            "10.4.0-MariaDB   | true  | FLUSH_TABLES_WITH_READ_LOCK",
            "10.3.39-MariaDB  | true  | FLUSH_TABLES_WITH_READ_LOCK",
            "8.0.36           | true  | FLUSH_TABLES_WITH_READ_LOCK",
            "8.4.0            | true  | FLUSH_TABLES_WITH_READ_LOCK",
            "10.11.19-MariaDB | false | NONE",
            "8.0.36           | false | NONE",
    })
    void lockMethod_byFlavorAndVersion(String version, boolean lockAllowed, ServerVersion.LockMethod expected) {
        assertEquals(expected, ServerVersion.parse(version, "").lockMethod(lockAllowed));
    }

    @Test
    void lockStatements_takeAndRelease() {
        assertEquals(List.of("BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT"), ServerVersion.lockStatements(ServerVersion.LockMethod.BACKUP_STAGE));
        assertEquals("BACKUP STAGE END", ServerVersion.unlockStatement(ServerVersion.LockMethod.BACKUP_STAGE));
        assertEquals(List.of("FLUSH TABLES WITH READ LOCK"), ServerVersion.lockStatements(ServerVersion.LockMethod.FLUSH_TABLES_WITH_READ_LOCK));
        assertEquals("UNLOCK TABLES", ServerVersion.unlockStatement(ServerVersion.LockMethod.FLUSH_TABLES_WITH_READ_LOCK));
        assertEquals(List.of(), ServerVersion.lockStatements(ServerVersion.LockMethod.NONE));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.11.19-MariaDB | SHOW MASTER STATUS      | @@GLOBAL.gtid_binlog_pos | mariadb-binlog | mariadb",
            "8.0.36           | SHOW MASTER STATUS      | @@GLOBAL.gtid_executed   | mysqlbinlog    | mysql",
            "8.2.0            | SHOW BINARY LOG STATUS  | @@GLOBAL.gtid_executed   | mysqlbinlog    | mysql",
            "8.4.0            | SHOW BINARY LOG STATUS  | @@GLOBAL.gtid_executed   | mysqlbinlog    | mysql",
            "5.7.44           | SHOW MASTER STATUS      | @@GLOBAL.gtid_executed   | mysqlbinlog    | mysql",
    })
    void binlogStatementsAndTools(String version, String status, String gtid, String binlogTool, String client) {
        ServerVersion v = ServerVersion.parse(version, "");
        assertEquals(status, v.binlogStatusStatement());
        assertEquals(gtid, v.gtidExpression());
        assertEquals(binlogTool, v.binlogToolNames().get(0));
        assertEquals(client, v.clientToolNames().get(0));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.11.19-MariaDB | true",
            "10.3.0-MariaDB   | true",
            "8.0.17           | true",
            "8.0.16           | false",
            "5.7.44           | false",
    })
    void castAsDouble(String version, boolean expected) {
        assertEquals(expected, ServerVersion.parse(version, "").hasCastAsDouble());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.2.44-MariaDB | MariaDB 10.2.44-MariaDB",
            "10.1.48-MariaDB | MariaDB 10.1.48-MariaDB",
            "5.6.51          | MySQL 5.6.51",
            "5.5.62          | MySQL 5.5.62",
    })
    void checkSupported_refusesOldServers_namingBoth(String version, String runs) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ServerVersion.parse(version, "").checkSupported("db1:3306"));
        assertEquals("server version too old: db1:3306 runs " + runs + "; backupkit needs MariaDB 10.3 or later, or MySQL 5.7 or later",
                e.getMessage());
    }

    @Test
    void checkSupported_acceptsCurrentServers() {
        for (String v : List.of("10.3.0-MariaDB", "10.11.19-MariaDB", "11.4.2-MariaDB", "5.7.0", "8.0.36", "8.4.0", "9.1.0")) {
            ServerVersion.parse(v, "").checkSupported("x");
        }
    }

    @Test
    void systemDatabasesAndAccounts() {
        assertTrue(ServerVersion.isSystemDatabase("mysql"));
        assertTrue(ServerVersion.isSystemDatabase("INFORMATION_SCHEMA"));
        assertTrue(ServerVersion.isSystemDatabase("performance_schema"));
        assertTrue(ServerVersion.isSystemDatabase("sys"));
        assertFalse(ServerVersion.isSystemDatabase("shop"));
        assertTrue(ServerVersion.isSystemAccount("mariadb.sys", "localhost"));
        assertTrue(ServerVersion.isSystemAccount("mysql.session", "localhost"));
        assertFalse(ServerVersion.isSystemAccount("root", "localhost"));
    }
}
