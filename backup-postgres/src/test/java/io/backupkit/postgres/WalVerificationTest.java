package io.backupkit.postgres;

import io.backupkit.VerificationCheck;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.physical.WalVerification;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static io.backupkit.postgres.SyntheticWalArchive.SYSID;
import static io.backupkit.postgres.SyntheticWalArchive.at;
import static io.backupkit.postgres.SyntheticWalArchive.base;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** WAL continuity of a base backup as verify reports it: one check per timeline, gaps named (synthetic archives). */
class WalVerificationTest {
    @TempDir
    Path dir;
    SyntheticWalArchive fake;
    WalArchive wal;

    @BeforeEach
    void open() {
        fake = new SyntheticWalArchive(dir);
        wal = fake.wal;
    }

    @AfterEach
    void close() {
        fake.close();
    }

    private List<VerificationCheck> checks(PhysicalMetadata base) {
        return WalVerification.checks(wal, base, "b1");
    }

    @Test
    void aContiguousArchive_passes_theSnapshotsOwnWalNotNeededFromTheArchive() {
        fake.archive(1, 4, 5, 6); // segment 3 (start and stop) is inside the snapshot only
        List<VerificationCheck> c = checks(base(1, at(3, 40), at(3, 400), true));
        assertEquals(1, c.size(), c.toString());
        assertEquals(VerificationCheck.Status.PASSED, c.get(0).status(), c.toString());
        assertEquals("wal timeline 1", c.get(0).name());
        assertTrue(c.get(0).message().contains("000000010000000000000004 to 000000010000000000000006 archived without a gap"), c.toString());
    }

    @Test
    void everyMissingSegment_isNamed_andFailsTheCheck() {
        fake.archive(1, 4, 6, 7, 10);
        List<VerificationCheck> c = checks(base(1, at(3, 40), at(3, 400), true));
        assertEquals(VerificationCheck.Status.FAILED, c.get(0).status(), c.toString());
        assertTrue(c.get(0).message().contains("missing 000000010000000000000005, 000000010000000000000008..000000010000000000000009 "
                + "(2 segments) between 000000010000000000000004 and the newest archived segment 00000001000000000000000A; "
                + "recovery stops at 0/500000"), c.toString());
    }

    @Test
    void withoutItsWalInTheSnapshot_theArchiveMustHoldItFromTheStart() {
        fake.archive(1, 4, 5);
        List<VerificationCheck> c = checks(base(1, at(3, 40), at(3, 400), false));
        assertEquals(VerificationCheck.Status.FAILED, c.get(0).status(), c.toString());
        assertTrue(c.get(0).message().contains("missing 000000010000000000000003 between 000000010000000000000003"), c.toString());
        fake.archive(1, 3);
        assertEquals(VerificationCheck.Status.PASSED, checks(base(1, at(3, 40), at(3, 400), false)).get(0).status());
    }

    @Test
    void nothingArchivedAfterTheBackup_restoresToItsEndOnly_unlessItNeedsTheArchiveToBeConsistent() {
        List<VerificationCheck> included = checks(base(1, at(3, 40), at(3, 400), true));
        assertEquals(VerificationCheck.Status.SKIPPED, included.get(0).status(), included.toString());
        assertTrue(included.get(0).message().contains("no WAL archived after the backup (from 000000010000000000000004); it restores to "
                + "its end (0/300190) only"), included.toString());
        List<VerificationCheck> without = checks(base(1, at(3, 40), at(3, 400), false));
        assertEquals(VerificationCheck.Status.FAILED, without.get(0).status(), without.toString());
        assertTrue(without.get(0).message().contains("is not archived and not in the snapshot"), without.toString());
    }

    @Test
    void aChildTimeline_getsItsOwnCheck_andIsUnreachableBehindAGapOnItsParent() {
        fake.archive(1, 4, 5, 6, 7);
        fake.history(2, "1\t" + at(6, 100) + "\tno recovery target specified\n");
        fake.archive(2, 6, 7, 8);
        List<VerificationCheck> c = checks(base(1, at(3, 40), at(3, 400), true));
        assertEquals(List.of("wal timeline 1", "wal timeline 2"), c.stream().map(VerificationCheck::name).toList());
        assertTrue(c.stream().allMatch(x -> x.status() == VerificationCheck.Status.PASSED), c.toString());
        assertTrue(c.get(1).message().contains("base backup b1, timeline 2 (from 1): 000000020000000000000006 to "
                + "000000020000000000000008 archived without a gap"), c.toString());

        io.backupkit.LogArchive.open(fake.repo, "wal").delete(Long.toUnsignedString(SYSID) + "/00000001/000000010000000000000005");
        List<VerificationCheck> broken = checks(base(1, at(3, 40), at(3, 400), true));
        assertEquals(VerificationCheck.Status.FAILED, broken.get(0).status(), broken.toString());
        assertTrue(broken.get(0).message().contains("missing 000000010000000000000005"), broken.toString());
        assertEquals(VerificationCheck.Status.FAILED, broken.get(1).status(), broken.toString());
        assertTrue(broken.get(1).message().contains("cannot be reached: timeline 1 has a gap before the branch point 0/600064"),
                broken.toString());
    }
}
