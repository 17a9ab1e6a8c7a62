package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.physical.WalWindow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.backupkit.postgres.SyntheticWalArchive.SYSID;
import static io.backupkit.postgres.SyntheticWalArchive.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which WAL a base backup can replay towards a timeline, with synthetic archives. */
class WalWindowTest {
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

    /** A base backup on {@code timeline} from {@code start} to {@code stop}, its WAL inside the snapshot. */
    private static PhysicalMetadata base(int timeline, Lsn start, Lsn stop) {
        return SyntheticWalArchive.base(timeline, start, stop, true);
    }

    private WalWindow window(PhysicalMetadata base, int target) {
        Map<Integer, TimelineHistory> h = wal.histories(SYSID);
        return WalWindow.compute(wal, SYSID, base, WalWindow.pathFrom(base, "b1", target, h));
    }

    @Test
    void contiguousArchive_reachesItsNewestSegment() {
        fake.archive(1, 3, 4, 5, 6);
        WalWindow w = window(base(1, at(3, 40), at(3, 400)), 1);
        assertEquals(at(7, 0), w.contiguousTo());
        assertNull(w.gap());
        assertEquals(List.of(3L, 4L, 5L, 6L), w.steps().stream().map(WalWindow.Step::segment).toList());
        assertTrue(w.steps().get(0).included(), "the backup's own segment is inside the snapshot");
    }

    @Test
    void aMissingSegmentWithLaterWal_isAGap_andNamed() {
        fake.archive(1, 3, 4, 6, 7);
        WalWindow w = window(base(1, at(3, 40), at(3, 400)), 1);
        assertEquals("000000010000000000000005", w.gap());
        assertEquals("000000010000000000000006", w.afterGap());
        assertEquals(at(5, 0), w.contiguousTo());
    }

    @Test
    void theSnapshotsOwnWal_countsAsPresentWhenTheArchiveLacksIt() {
        fake.archive(1, 5, 6);
        WalWindow w = window(base(1, at(3, 40), at(4, 400)), 1);
        assertNull(w.gap());
        assertEquals(at(7, 0), w.contiguousTo());
    }

    @Test
    void aChildTimeline_isFollowedFromItsSwitchSegment() {
        fake.archive(1, 3, 4, 5, 6, 7);
        fake.history(2, "1\t" + at(6, 100) + "\tno recovery target specified\n");
        fake.archive(2, 6, 7, 8);
        WalWindow w = window(base(1, at(3, 40), at(3, 400)), 2);
        assertEquals("1 → 2", w.describePath());
        assertEquals(List.of("000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
                "000000020000000000000006", "000000020000000000000007", "000000020000000000000008"),
                w.steps().stream().map(WalWindow.Step::fileName).toList());
        assertEquals(at(9, 0), w.contiguousTo());
        assertEquals(2, w.endTimeline());
        // the archive's own continuity check agrees on where timeline 2's gap-free WAL ends
        WalContinuity c = wal.continuity(SYSID, 1, at(3, 40));
        assertEquals(w.contiguousTo(), c.timelines().stream().filter(t -> t.timeline() == 2).findFirst().orElseThrow().contiguousTo());
    }

    @Test
    void aTimelineThatForkedBeforeTheBackupWasConsistent_isRefused() {
        fake.archive(1, 3, 4, 5, 6, 7);
        fake.history(2, "1\t" + at(6, 100) + "\tno recovery target specified\n");
        fake.archive(2, 6, 7);
        PhysicalMetadata late = base(1, at(7, 40), at(7, 400));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> window(late, 2));
        assertEquals("timeline 2 forked from timeline 1 at " + at(6, 100) + ", before base backup b1 was consistent (" + at(7, 400)
                + " on timeline 1): its WAL cannot be replayed onto that backup. Use a base backup that ended before " + at(6, 100)
                + ", or recover along timeline 1 (--timeline 1)", e.getMessage());
    }

    @Test
    void aTimelineOfAnotherBranch_isRefused() {
        fake.history(2, "1\t" + at(4, 0) + "\tx\n");
        fake.history(3, "1\t" + at(4, 0) + "\tx\n2\t" + at(6, 0) + "\ty\n");
        fake.history(4, "1\t" + at(5, 0) + "\tz\n");
        PhysicalMetadata onThree = base(3, at(7, 40), at(7, 400));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> window(onThree, 4));
        assertEquals("timeline 4 does not descend from timeline 3 of base backup b1 (timeline 4 comes from 1 → 4); use a base backup "
                + "taken on one of those timelines", e.getMessage());
    }
}
