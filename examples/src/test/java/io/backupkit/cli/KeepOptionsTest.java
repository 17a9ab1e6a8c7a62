package io.backupkit.cli;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --pitr-window: days and hours, or ISO-8601; nonsense is named. */
class KeepOptionsTest {
    @Test
    void pitrWindow_daysAndHours() {
        assertEquals(Duration.ofDays(7), KeepOptions.window("7d"));
        assertEquals(Duration.ofHours(36), KeepOptions.window("36h"));
        assertEquals(Duration.ofHours(36), KeepOptions.window("1d12h"));
        assertEquals(Duration.ofHours(36), KeepOptions.window("PT36H"));
        KeepOptions o = new KeepOptions();
        o.pitrWindow = "7d";
        assertEquals(Duration.ofDays(7), o.policy().pitrWindow());
        assertTrue(o.policy().describe().contains("168 h point-in-time recovery window"), o.policy().describe());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0d", "7 days", "-3h", "1w", "PT0S"})
    void pitrWindow_nonsenseIsNamed(String value) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> KeepOptions.window(value));
        assertTrue(e.getMessage().startsWith("--pitr-window"), e.getMessage());
    }
}
