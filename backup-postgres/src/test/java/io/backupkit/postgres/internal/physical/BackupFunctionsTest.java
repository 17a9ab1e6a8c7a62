package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The low-level backup API per server version: renamed in 15, non-exclusive form before. */
class BackupFunctionsTest {

    @ParameterizedTest
    @CsvSource({
            "130000, 'SELECT pg_start_backup(?, true, false)', 'SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)'",
            "130015, 'SELECT pg_start_backup(?, true, false)', 'SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)'",
            "140011, 'SELECT pg_start_backup(?, true, false)', 'SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)'",
            "150000, 'SELECT pg_backup_start(?, true)', 'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)'",
            "150014, 'SELECT pg_backup_start(?, true)', 'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)'",
            "160004, 'SELECT pg_backup_start(?, true)', 'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)'",
            "170002, 'SELECT pg_backup_start(?, true)', 'SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)'",
    })
    void forVersion_choosesTheFunctionsOfThatRelease(int versionNum, String start, String stop) {
        BackupFunctions f = BackupFunctions.forVersion(versionNum);
        assertEquals(start, f.start());
        assertEquals(stop, f.stop());
    }

    @ParameterizedTest
    @ValueSource(ints = {90600, 100000, 120017})
    void forVersion_beforeThirteen_isRefusedWithTheMinimum(int versionNum) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> BackupFunctions.forVersion(versionNum));
        assertEquals("PostgreSQL " + versionNum / 10000 + " is not supported for physical backups: backupkit needs PostgreSQL 13 or newer",
                e.getMessage());
    }
}
