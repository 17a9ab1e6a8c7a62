package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PgConnectionConfigTest {

    @ParameterizedTest
    @CsvSource({
        "jdbc:postgresql://db.example:6543/shop?sslmode=require, db.example, 6543, shop, ",
        "jdbc:postgresql://db.example/shop, db.example, 5432, shop, ",
        "jdbc:postgresql:shop, localhost, 5432, shop, ",
        "postgresql://backup@db.example:5433/shop, db.example, 5433, shop, backup",
        "postgres://backup:s3cret@db.example/shop, db.example, 5432, shop, backup",
        "postgresql://[::1]:7000/my%20db, ::1, 7000, my db, ",
        "postgresql:///shop?host=10.0.0.1&port=6000&user=u, 10.0.0.1, 6000, shop, u",
    })
    void parsesJdbcUrlsAndLibpqUris(String url, String host, int port, String db, String user) {
        PgConnectionConfig c = PgConnectionConfig.parse(url);
        assertEquals(host, c.host());
        assertEquals(port, c.port());
        assertEquals(db, c.database());
        assertEquals(user, c.user());
    }

    @Test
    void of_builderSettingsWinOverTheUrl_andNullKeepsTheUrls() {
        String url = "postgresql://urluser:urlpw@db.example:6543/shop?sslmode=prefer&sslrootcert=/url/ca.pem";
        PgConnectionConfig kept = PgConnectionConfig.of(url, null, null, null, null);
        assertEquals("urluser", kept.user());
        assertEquals("urlpw", kept.passwordForChildEnvironment());
        assertEquals("prefer", kept.params().get("sslmode"));
        assertEquals("/url/ca.pem", kept.params().get("sslrootcert"));

        PgConnectionConfig set = PgConnectionConfig.of(url, "backup", "builderpw".toCharArray(), "verify-full",
                java.nio.file.Path.of("/etc/ca.pem"));
        assertEquals("backup", set.user());
        assertEquals("builderpw", set.passwordForChildEnvironment());
        assertEquals("verify-full", set.params().get("sslmode"));
        assertEquals(java.nio.file.Path.of("/etc/ca.pem").toString(), set.params().get("sslrootcert"));
        assertEquals("db.example", set.host());
        assertEquals(6543, set.port());
        assertEquals("shop", set.database());
    }

    @Test
    void passwordFromUrl_isKeptButNeverPrinted() {
        PgConnectionConfig c = PgConnectionConfig.parse("postgresql://backup:s3cret@db/shop?sslmode=verify-full");
        assertEquals("s3cret", c.passwordForChildEnvironment());
        assertFalse(c.toString().contains("s3cret"));
        assertFalse(c.describe().contains("s3cret"));
        assertFalse(c.jdbcUrl().contains("s3cret"));
        assertFalse(c.libpqConnectionString("x").contains("s3cret"));
        assertEquals("s3cret", c.jdbcProperties("x").getProperty("password"));
        assertTrue(c.libpqConnectionString("x").contains("sslmode='verify-full'"));
    }

    @Test
    void libpqConnectionString_quotesValues() {
        PgConnectionConfig c = PgConnectionConfig.parse("postgresql://u@h/it's%20db");
        assertTrue(c.libpqConnectionString("app").contains("dbname='it\\'s db'"), c.libpqConnectionString("app"));
    }

    @Test
    void badUrls_areRejectedWithoutShowingThePassword() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> PgConnectionConfig.parse("mysql://u:pw123@h/db"));
        assertFalse(e.getMessage().contains("pw123"), e.getMessage());
        ConfigurationException port = assertThrows(ConfigurationException.class, () -> PgConnectionConfig.parse("postgresql://h:99999/db"));
        assertTrue(port.getMessage().startsWith("invalid port '99999'"), port.getMessage());
        assertThrows(ConfigurationException.class, () -> PgConnectionConfig.parse("postgresql://h1,h2/db"));
        ConfigurationException bracket = assertThrows(ConfigurationException.class,
                () -> PgConnectionConfig.parse("postgresql://u:pw123@[::1/db"));
        assertTrue(bracket.getMessage().startsWith("unclosed '[' in the host of"), bracket.getMessage());
        assertFalse(bracket.getMessage().contains("pw123"), bracket.getMessage());
    }

    @Test
    void toolAddress_isWhatTheToolsUse_whileJdbcKeepsTheUrlsAddress_throughEveryCopy() {
        PgConnectionConfig c = PgConnectionConfig.parse("postgresql://app@127.0.0.1:40123/shop?sslmode=require")
                .withToolAddress("localhost", 5432).withDatabase("other").withParam("connect_timeout", "5").withUser("u");
        assertEquals("jdbc:postgresql://127.0.0.1:40123/other?sslmode=require&connect_timeout=5", c.jdbcUrl());
        String libpq = c.libpqConnectionString("x");
        assertTrue(libpq.startsWith("host='localhost' port='5432' dbname='other' user='u'"), libpq);
        assertEquals("u@127.0.0.1:40123/other", c.describe());
    }
}
