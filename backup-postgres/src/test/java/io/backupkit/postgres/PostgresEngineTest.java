package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.DatabaseEngine;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostgresEngineTest {

    @Test
    void isFoundByServiceLoader_forPostgresUrls() {
        List<DatabaseEngine> engines = ServiceLoader.load(DatabaseEngine.class).stream().map(ServiceLoader.Provider::get).toList();
        DatabaseEngine pg = engines.stream().filter(e -> e.supports("postgresql://db/shop")).findFirst().orElseThrow();
        assertEquals("postgresql", pg.name());
        assertTrue(pg.supports("postgres://db/shop"));
        assertTrue(pg.supports("jdbc:postgresql://db:5432/shop"));
        assertTrue(pg.supports("JDBC:POSTGRESQL:shop"));
        assertFalse(pg.supports("mysql://db/shop"));
        assertFalse(pg.supports("jdbc:mysql://db/shop"));
    }

    @Test
    void optionsBuildSourcesAndTargets_andUnknownOptionsAreNamed() {
        PostgresEngine engine = new PostgresEngine();
        var source = engine.source("postgresql://backup@db/shop", Map.of("password", "pw-secret", "sslMode", "require", "jobs", "3"));
        assertEquals("postgresql", source.engine());
        assertEquals("postgresql://backup@db:5432/shop", source.describe());
        var target = engine.target("postgresql://db/postgres", Map.of("database", "copy", "tables", "a, b.c", "dropExisting", "true"));
        assertEquals("postgresql://db:5432/copy", target.describe());
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> engine.source("postgresql://db/x", Map.of("pasword", "x")));
        assertTrue(e.getMessage().startsWith("unknown PostgreSQL source option 'pasword'"), e.getMessage());
        assertThrows(ConfigurationException.class, () -> engine.target("postgresql://db/x", Map.of("dropExisting", "maybe")));
    }

    @Test
    void hardeningOptions_parse_andContradictionsAreRejected() {
        PostgresEngine engine = new PostgresEngine();
        assertEquals(java.time.Duration.ofSeconds(2), PostgresEngine.parseDuration("lockWaitTimeout", "2s"));
        assertEquals(java.time.Duration.ofMillis(500), PostgresEngine.parseDuration("lockWaitTimeout", "500ms"));
        assertEquals(java.time.Duration.ofMinutes(3), PostgresEngine.parseDuration("lockWaitTimeout", "3m"));
        assertEquals(java.time.Duration.ofSeconds(45), PostgresEngine.parseDuration("lockWaitTimeout", "PT45S"));
        assertEquals(java.time.Duration.ofSeconds(7), PostgresEngine.parseDuration("lockWaitTimeout", "7"));
        ConfigurationException bad = assertThrows(ConfigurationException.class,
                () -> engine.source("postgresql://db/x", Map.of("lockWaitTimeout", "soon")));
        assertTrue(bad.getMessage().contains("lockWaitTimeout") && bad.getMessage().contains("soon"), bad.getMessage());
        assertThrows(ConfigurationException.class, () -> engine.source("postgresql://db/x", Map.of("lockWaitTimeout", "0s")));
        engine.source("postgresql://db/x", Map.of("lockWaitTimeout", "5s", "globals", "false", "rolePasswords", "true",
                "splitLargeTables", "false"));
        ConfigurationException split = assertThrows(ConfigurationException.class,
                () -> engine.source("postgresql://db/x", Map.of("splitLargeTables", "no")));
        assertTrue(split.getMessage().contains("splitLargeTables") && split.getMessage().contains("'no'"), split.getMessage());
        engine.target("postgresql://db/postgres", Map.of("database", "copy", "dropExisting", "true", "terminateSessions", "true",
                "restoreGlobals", "true", "owner", "app"));
        ConfigurationException lonely = assertThrows(ConfigurationException.class,
                () -> engine.target("postgresql://db/postgres", Map.of("database", "copy", "terminateSessions", "true")));
        assertTrue(lonely.getMessage().contains("dropExisting()"), lonely.getMessage());
    }

    @Test
    void physicalTrue_buildsABaseBackupSource_andPhysicalOptionsAreRefusedForLogicalBackups() {
        PostgresEngine engine = new PostgresEngine();
        var physical = engine.source("postgresql://backup@db/postgres", Map.of("physical", "true", "method", "low-level",
                "dataDirectory", "/srv/pg", "blockSize", "262144", "jobs", "3"));
        assertTrue(physical instanceof PostgresPhysicalSource, physical.getClass().getName());
        assertEquals("postgresql://backup@db:5432/postgres (physical)", physical.describe());
        assertTrue(engine.source("postgresql://db/x", Map.of("physical", "false")) instanceof PostgresSource);
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> engine.source("postgresql://db/x", Map.of("method", "low-level")));
        assertEquals("option method applies to physical backups only (physical=true, CLI: --physical)", e.getMessage());
        ConfigurationException m = assertThrows(ConfigurationException.class,
                () -> engine.source("postgresql://db/x", Map.of("physical", "true", "method", "rsync")));
        assertEquals("option method must be auto, pg_basebackup or low-level, was 'rsync'", m.getMessage());
        assertThrows(ConfigurationException.class, () -> engine.source("postgresql://db/x", Map.of("physical", "true", "blockSize", "1000")));
    }
}
