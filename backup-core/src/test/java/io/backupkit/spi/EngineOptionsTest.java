package io.backupkit.spi;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineOptionsTest {
    @Test
    void requireKnown_whenAKeyIsMisspelt_namesItAndTheKnownOnesSorted() {
        EngineOptions.requireKnown("SQLite", "source", Map.of("countRows", "true"), Set.of("countRows", "busyTimeout"));
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> EngineOptions.requireKnown("SQLite", "source", Map.of("countrows", "true"), Set.of("countRows", "busyTimeout")));
        assertEquals("unknown SQLite source option 'countrows'; known: [busyTimeout, countRows]", e.getMessage());
    }

    @Test
    void flag_acceptsTrueFalseAndAnEmptyValue_refusesAnythingElse() {
        assertTrue(EngineOptions.flag("k", null));
        assertTrue(EngineOptions.flag("k", ""));
        assertTrue(EngineOptions.flag("k", "TRUE"));
        assertFalse(EngineOptions.flag("k", "False"));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> EngineOptions.flag("users", "yes"));
        assertEquals("option users must be true or false, was 'yes'", e.getMessage());
    }

    @Test
    void number_trimsBlanks_andSaysWhichOptionIsNotANumber() {
        assertEquals(4, EngineOptions.number("jobs", " 4 "));
        assertEquals(0, EngineOptions.number("jobs", "0"));
        assertEquals("option jobs must be a number, was 'four'",
                assertThrows(ConfigurationException.class, () -> EngineOptions.number("jobs", "four")).getMessage());
        assertEquals("option jobs must be a number, was 'null'",
                assertThrows(ConfigurationException.class, () -> EngineOptions.number("jobs", null)).getMessage());
    }

    @Test
    void positiveNumber_refusesZeroNegativeAndText() {
        assertEquals(30, EngineOptions.positiveNumber("timeoutSeconds", "30"));
        for (String bad : new String[] {"0", "-5", "soon", ""}) {
            assertEquals("option timeoutSeconds must be a positive number, was '" + bad + "'",
                    assertThrows(ConfigurationException.class, () -> EngineOptions.positiveNumber("timeoutSeconds", bad)).getMessage());
        }
    }
}
