package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.redis.internal.RedisUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RedisEngineTest {
    private final RedisEngine engine = new RedisEngine();

    @ParameterizedTest
    @CsvSource({
            "redis://cache.internal:6380, , cache.internal, 6380",
            "redis://backup@10.0.0.5:6379, backup, 10.0.0.5, 6379",
            "redis://localhost, , localhost, 6379",
            "redis://localhost:7000/, , localhost, 7000"})
    void urls(String url, String user, String host, int port) {
        assertTrue(engine.supports(url));
        assertEquals(new RedisUrl(user, host, port), RedisUrl.parse(url));
    }

    @Test
    void aPasswordInTheUrl_isRefused_withoutEchoingIt() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> RedisUrl.parse("redis://u:hunter2@h:6379"));
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertTrue(e.getMessage().startsWith("the Redis URL contains a password"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "redis://h:6379/3| names the whole instance",
            "rediss://h:6379| TLS) is not supported yet",
            "redis://:6379| names no host"})
    void badUrls(String url, String message) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> RedisUrl.parse(url));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void options() {
        assertFalse(engine.supports("sqlite:/x.db"));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> engine.target("redis://h:1", Map.of("tables", "x")));
        assertEquals("unknown Redis target option 'tables'; known: [compare, dropExisting, jobs, password, timeoutSeconds]", e.getMessage());
        assertEquals("redis://backup@h:1", engine.source("redis://backup@h:1", Map.of("password", "p", "diskless", "false")).describe());
    }
}
