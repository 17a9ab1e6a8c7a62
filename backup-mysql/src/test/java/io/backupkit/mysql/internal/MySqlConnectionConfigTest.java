package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MySqlConnectionConfigTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "mysql://backup@db1:3307/shop          | db1       | 3307 | shop     | backup",
            "mariadb://db1/shop                    | db1       | 3306 | shop     | -",
            "mariadb://root@127.0.0.1:3306/        | 127.0.0.1 | 3306 | -        | root",
            "mysql://root@db1:3306                 | db1       | 3306 | -        | root",
            "jdbc:mysql://db1:3306/shop?user=u     | db1       | 3306 | shop     | u",
            "jdbc:mariadb://[::1]:3310/a%2Fb       | ::1       | 3310 | a/b      | -",
            "mysql://us%40er@h/Kunden%20%C3%9C     | h         | 3306 | Kunden Ü | us@er",
    })
    void parse(String url, String host, int port, String db, String user) {
        MySqlConnectionConfig c = MySqlConnectionConfig.parse(url);
        assertEquals(host, c.host());
        assertEquals(port, c.port());
        assertEquals(db, c.database());
        assertEquals(user, c.user());
    }

    @Test
    void passwordInUrl_isKept_butNeverShown() {
        MySqlConnectionConfig c = MySqlConnectionConfig.parse("mysql://u:s3cr%3At@db1/shop");
        assertEquals("s3cr:t", c.passwordForChildEnvironment());
        assertFalse(c.describe().contains("s3cr"), c.describe());
        assertFalse(c.toString().contains("s3cr"), c.toString());
        assertFalse(c.jdbcUrl().contains("s3cr"), c.jdbcUrl());
        assertEquals("mysql://u:***@db1/shop", MySqlConnectionConfig.redact("mysql://u:s3cr%3At@db1/shop"));
        assertEquals("mariadb://db1/shop?password=***", MySqlConnectionConfig.redact("mariadb://db1/shop?password=x"));
    }

    @Test
    void describe_saysWholeServerWithoutDatabase() {
        assertEquals("backup@db1:3306 (all databases)", MySqlConnectionConfig.parse("mysql://backup@db1").describe());
        assertEquals("backup@db1:3306/shop", MySqlConnectionConfig.parse("mysql://backup@db1/shop").describe());
    }

    @Test
    void urlKinds() {
        assertTrue(MySqlConnectionConfig.isMySqlUrl("MySQL://x/y"));
        assertTrue(MySqlConnectionConfig.isMySqlUrl("jdbc:mariadb://x/y"));
        assertFalse(MySqlConnectionConfig.isMySqlUrl("postgresql://x/y"));
        assertFalse(MySqlConnectionConfig.isMySqlUrl(null));
    }

    @Test
    void badPortAndSeveralHosts_areRefused() {
        assertEquals("invalid port 'x' in mysql://db1:x/shop",
                assertThrows(ConfigurationException.class, () -> MySqlConnectionConfig.parse("mysql://db1:x/shop")).getMessage());
        assertTrue(assertThrows(ConfigurationException.class, () -> MySqlConnectionConfig.parse("mysql://a,b/shop")).getMessage()
                .startsWith("several hosts in one URL are not supported"));
        assertTrue(assertThrows(ConfigurationException.class, () -> MySqlConnectionConfig.parse("postgresql://a/b")).getMessage()
                .startsWith("not a MySQL/MariaDB URL"));
    }

    @Test
    void jdbcUrl_hasNoDatabaseAndKeepsParameters() {
        assertEquals("jdbc:mariadb://db1:3306/?sslMode=verify-full", MySqlConnectionConfig.parse("mysql://u@db1/shop?sslMode=verify-full").jdbcUrl());
        assertNull(MySqlConnectionConfig.parse("mysql://u@db1").database());
    }

    @Test
    void jdbcUrl_keepsTheParametersInTheOrderGiven_inEveryJvm() {
        // Map.copyOf iterates in an order salted per JVM: the URL (and the messages that show it) changed between runs
        String query = "useSsl=true&sslMode=verify-full&serverSslCert=%2Fetc%2Fca.pem&socketTimeout=0&connectTimeout=5000"
                + "&tcpKeepAlive=true&localSocketAddress=127.0.0.1&restrictedAuth=mysql_native_password";
        assertEquals("jdbc:mariadb://db1:3306/?" + query, MySqlConnectionConfig.parse("mysql://u@db1/shop?" + query).jdbcUrl());
        assertEquals("jdbc:mariadb://db1:3306/?" + query,
                MySqlConnectionConfig.parse("mysql://u@db1/shop?" + query).withUser("v").withDatabase("x").jdbcUrl());
    }
}
