package io.backupkit.cli;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.StorageException;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ExitCodesTest {
    @Test
    void damagedDataAndWrongKeys_exit3_evenWhenWrapped() {
        assertEquals(3, ExitCodes.of(new IntegrityException("data/3f/3fa2", "authentication tag mismatch")));
        assertEquals(3, ExitCodes.of(new KeyException("no key slot opens with this password")));
        assertEquals(3, ExitCodes.of(new BackupException("restore failed", new IntegrityException("snapshots/91", "bad"))));
        assertEquals(3, ExitCodes.of(new ExitCodes.VerificationFailedException("2 checks failed")));
    }

    @Test
    void configurationErrors_exit2() {
        assertEquals(2, ExitCodes.of(new ConfigurationException("unknown compression 'zip'")));
    }

    @Test
    void theDatabaseRefusing_exit1_evenWhenReportedAsConfiguration() {
        assertEquals(1, ExitCodes.of(new ConfigurationException("database shop does not exist on db:5432",
                new java.sql.SQLException("FATAL: database \"shop\" does not exist", "3D000"))));
    }

    @Test
    void otherFailures_exit1() {
        assertEquals(1, ExitCodes.of(new EngineException("pg_dump failed", 1, "database \"nope\" does not exist", null)));
        assertEquals(1, ExitCodes.of(new StorageException("disk full", false)));
        assertEquals(1, ExitCodes.of(new UncheckedIOException(new java.io.IOException("broken pipe"))));
        assertEquals(1, ExitCodes.of(new IllegalStateException("bug")));
    }
}
