package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The version switch for every supported major version: what each one's catalogs and CREATE DATABASE accept. */
class PgVersionTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "130016|'c'::text, NULL::text, NULL::text",
        "140013|'c'::text, NULL::text, NULL::text",
        "150014|d.datlocprovider::text, d.daticulocale, NULL::text",
        "160010|d.datlocprovider::text, d.daticulocale, d.daticurules",
        "170006|d.datlocprovider::text, d.datlocale, d.daticurules",
        "180001|d.datlocprovider::text, d.datlocale, d.daticurules",
    })
    void databaseLocaleColumns_nameOnlyColumnsThatVersionHas(int versionNum, String columns) {
        assertEquals(columns, PgVersion.of(versionNum).databaseLocaleColumns());
    }

    @ParameterizedTest
    @CsvSource({"130016, false, false", "140013, true, false", "150014, true, true", "160010, true, true", "170006, true, true"})
    void features(int versionNum, boolean tidRanges, boolean unloggedSequences) {
        PgVersion v = PgVersion.of(versionNum);
        assertEquals(tidRanges, v.tidRangeScans());
        assertEquals(unloggedSequences, v.unloggedSequences());
    }

    @Test
    void libcDatabases_needNoProviderClause_onAnyVersion() {
        for (int v : new int[] {130016, 140013, 150014, 160010, 170006}) {
            assertEquals("", PgVersion.of(v).createDatabaseLocaleClause("c", null, null, "db:5432"));
            assertEquals("", PgVersion.of(v).createDatabaseLocaleClause(null, null, null, "db:5432"));
        }
    }

    @Test
    void icu_isCreatedFrom15_rulesFrom16_andRefusedBefore() {
        assertEquals(" LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'", PgVersion.of(150014).createDatabaseLocaleClause("i", "de-DE", null, "x"));
        assertEquals(" LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'", PgVersion.of(170006).createDatabaseLocaleClause("i", "de-DE", "", "x"));
        assertEquals(" LOCALE_PROVIDER icu ICU_LOCALE 'und' ICU_RULES '&a < b'",
                PgVersion.of(160010).createDatabaseLocaleClause("i", "und", "&a < b", "x"));
        ConfigurationException old = assertThrows(ConfigurationException.class,
                () -> PgVersion.of(140013).createDatabaseLocaleClause("i", "de-DE", null, "db1:5432"));
        assertTrue(old.getMessage().contains("ICU") && old.getMessage().contains("db1:5432") && old.getMessage().contains("15"),
                old.getMessage());
        ConfigurationException rules = assertThrows(ConfigurationException.class,
                () -> PgVersion.of(150014).createDatabaseLocaleClause("i", "und", "&a < b", "db1:5432"));
        assertTrue(rules.getMessage().contains("16"), rules.getMessage());
    }

    @Test
    void builtinProvider_isCreatedFrom17_andRefusedBefore() {
        assertEquals(" LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'",
                PgVersion.of(170006).createDatabaseLocaleClause("b", "C.UTF-8", null, "x"));
        for (int v : new int[] {130016, 140013, 150014, 160010}) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> PgVersion.of(v).createDatabaseLocaleClause("b", "C.UTF-8", null, "db1:5432"));
            assertTrue(e.getMessage().contains("builtin") && e.getMessage().contains("17"), e.getMessage());
        }
    }

    @Test
    void versionsBefore13_areRefusedWithTheVersionNamed() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> PgVersion.of(120020).requireSupported("db1:5432"));
        assertTrue(e.getMessage().contains("PostgreSQL 12") && e.getMessage().contains("13 or newer"), e.getMessage());
        for (int v : new int[] {130016, 140013, 150014, 160010, 170006, 180001}) {
            assertEquals(v / 10000, PgVersion.of(v).requireSupported("x").major());
        }
        assertFalse(PgVersion.of(130016).tidRangeScans());
    }
}
