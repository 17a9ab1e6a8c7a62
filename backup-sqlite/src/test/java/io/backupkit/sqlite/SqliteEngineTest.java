package io.backupkit.sqlite;

import io.backupkit.ConfigurationException;
import io.backupkit.sqlite.internal.SqliteUrl;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SqliteEngineTest {
    private final SqliteEngine engine = new SqliteEngine();

    @ParameterizedTest
    @CsvSource({
            "sqlite:/var/lib/app/app.db, /var/lib/app/app.db",
            "sqlite:///var/lib/app/app.db, /var/lib/app/app.db",
            "jdbc:sqlite:/srv/x.db, /srv/x.db",
            "SQLITE:/srv/x.db, /srv/x.db",
            "sqlite:/srv/../srv/x.db, /srv/x.db"})
    void absolutePaths(String url, String path) {
        assertTrue(engine.supports(url));
        assertEquals(Path.of(path), SqliteUrl.path(url));
    }

    @Test
    void relativePaths_resolveAgainstTheWorkingDirectory() {
        assertEquals(Path.of("data/app.db").toAbsolutePath(), SqliteUrl.path("sqlite:data/app.db"));
        assertEquals(Path.of("app.db").toAbsolutePath(), ((SqliteSource) engine.source("sqlite:app.db", Map.of())).path());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql://h/db", "redis://h:6379", "mysql://u@h/db", "sqlite3:/x"})
    void otherUrls_areNotSqlite(String url) {
        assertFalse(engine.supports(url));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "sqlite:| names no file",
            "sqlite::memory:| names no file",
            "sqlite://host/x.db| names a host",
            "sqlite:/x.db?mode=ro| has parameters"})
    void badUrls_sayWhatIsWrong(String url, String expected) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> SqliteUrl.path(url));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void options_areChecked() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> engine.source("sqlite:/x.db", Map.of("tables", "a")));
        assertEquals("unknown SQLite source option 'tables'; known: [blockSize, busyTimeout, countRows, jobs, password, tempDirectory]",
                e.getMessage());
        e = assertThrows(ConfigurationException.class, () -> engine.source("sqlite:/x.db", Map.of("busyTimeout", "soon")));
        assertEquals("option busyTimeout must be a duration such as 30s, 2m or 500ms, was 'soon'", e.getMessage());
        e = assertThrows(ConfigurationException.class, () -> engine.source("sqlite:/x.db", Map.of("blockSize", "5000")));
        assertEquals("blockSize must be a power of two of at least 4096, was 5000", e.getMessage());
        assertEquals(java.time.Duration.ofSeconds(30), SqliteEngine.duration("k", "30s"));
        assertEquals(java.time.Duration.ofMillis(250), SqliteEngine.duration("k", "250"));
        assertEquals(java.time.Duration.ofMinutes(2), SqliteEngine.duration("k", "PT2M"));
    }

    @Test
    void dropExisting_meansOverwrite() {
        assertEquals("sqlite:" + Path.of("/x/y.db"), engine.target("sqlite:/x/y.db", Map.of("dropExisting", "true")).describe());
    }
}
