package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecoveryTargetTest {

    @ParameterizedTest
    @CsvSource({
            "'2026-11-22 14:32:00+01', 2026-11-22T13:32:00Z",
            "'2026-11-22 14:32:00+0100', 2026-11-22T13:32:00Z",
            "'2026-11-22 14:32:00.250-05:30', 2026-11-22T20:02:00.250Z",
            "'2026-11-22T13:32:00Z', 2026-11-22T13:32:00Z",
            "'2026-11-22T13:32:00.123456Z', 2026-11-22T13:32:00.123456Z",
    })
    void time_acceptsPostgresAndIsoForms(String text, String instant) {
        assertEquals(Instant.parse(instant), RecoveryTarget.time(text).time());
    }

    @Test
    void time_withoutOffset_isRefused() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> RecoveryTarget.time("2026-11-22 14:32:00"));
        assertTrue(e.getMessage().contains("is not a time with an offset"), e.getMessage());
    }

    @Test
    void settings_areThoseOfPostgresql() {
        assertEquals(Map.of(), RecoveryTarget.latest().settings());
        assertEquals(Map.of("recovery_target", "immediate"), RecoveryTarget.immediate().settings());
        assertEquals(Map.of("recovery_target_time", "2026-11-22 13:32:00.000001+00:00"),
                RecoveryTarget.time(Instant.parse("2026-11-22T13:32:00.000001Z")).settings());
        assertEquals(Map.of("recovery_target_lsn", "16/B374D848"), RecoveryTarget.lsn("16/b374d848").settings());
        assertEquals(Map.of("recovery_target_xid", "4711", "recovery_target_inclusive", "off"), RecoveryTarget.xid(4711).inclusive(false).settings());
        assertEquals(Map.of("recovery_target_name", "before_migration"), RecoveryTarget.name("before_migration").settings());
    }

    @Test
    void badTargets_areRefused() {
        assertThrows(ConfigurationException.class, () -> RecoveryTarget.lsn("16-B374D848"));
        assertThrows(ConfigurationException.class, () -> RecoveryTarget.xid(2));
        assertThrows(ConfigurationException.class, () -> RecoveryTarget.name(""));
        assertThrows(ConfigurationException.class, () -> RecoveryTarget.latest().inclusive(false));
    }
}
