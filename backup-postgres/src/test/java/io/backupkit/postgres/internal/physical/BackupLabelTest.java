package io.backupkit.postgres.internal.physical;

import io.backupkit.EngineException;
import io.backupkit.postgres.Lsn;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackupLabelTest {
    static final String PG15 = """
            START WAL LOCATION: 0/4000028 (file 000000010000000000000004)
            CHECKPOINT LOCATION: 0/4000060
            BACKUP METHOD: streamed
            BACKUP FROM: primary
            START TIME: 2026-11-30 03:55:16 UTC
            LABEL: pg_basebackup base backup
            START TIMELINE: 1
            """;

    @Test
    void parsesWhatRecoveryNeeds() {
        BackupLabel l = BackupLabel.parse(PG15);
        assertEquals(Lsn.parse("0/4000028"), l.startLsn());
        assertEquals("000000010000000000000004", l.startWalFile());
        assertEquals(Lsn.parse("0/4000060"), l.checkpointLsn());
        assertEquals(1, l.timeline());
        assertEquals(Instant.parse("2026-11-30T03:55:16Z"), l.startTime());
        assertEquals("pg_basebackup base backup", l.label());
        assertEquals("primary", l.backupFrom());
    }

    @Test
    void timelineComesFromTheFileNameWithoutStartTimeline_andOffsetsAndAbbreviationsAreRead() {
        BackupLabel l = BackupLabel.parse(PG15.replace("START TIMELINE: 1\n", "").replace("file 000000010000000000000004", "file 000000030000000000000004")
                .replace("03:55:16 UTC", "04:55:16 +01"));
        assertEquals(3, l.timeline());
        assertEquals(Instant.parse("2026-11-30T03:55:16Z"), l.startTime());
        assertNull(BackupLabel.parse(PG15.replace("UTC", "CET")).startTime(), "an ambiguous abbreviation gives no time");
    }

    @Test
    void aLabelWithoutStartLocation_isNamedInTheError() {
        EngineException e = assertThrows(EngineException.class, () -> BackupLabel.parse("LABEL: x\n"));
        assertTrue(e.getMessage().startsWith("backup_label has no START WAL LOCATION line"), e.getMessage());
    }
}
