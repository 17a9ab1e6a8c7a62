package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.physical.WalWindow;
import io.backupkit.postgres.internal.wal.WalNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which WAL a base backup can replay towards a timeline, with synthetic archives. */
class WalWindowTest {
    static final long SYSID = 7312345678901234567L;
    static final long SEG = FakeWal.SEGMENT_SIZE;

    @TempDir
    Path dir;
    Repository repo;
    WalArchive wal;

    @BeforeEach
    void open() {
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
        wal = WalArchive.builder().repository(repo).systemId(SYSID).build();
    }

    @AfterEach
    void close() {
        repo.close();
    }

    private void archive(int timeline, long... segments) {
        for (long s : segments) {
            wal.push(FakeWal.writeSegment(dir.resolve("pg_wal"), SYSID, timeline, s));
        }
    }

    private void history(int timeline, String content) {
        wal.push(FakeWal.write(dir.resolve("pg_wal"), WalNames.historyName(timeline), content.getBytes(StandardCharsets.UTF_8)));
    }

    /** A base backup on {@code timeline} from {@code start} to {@code stop}, its WAL inside the snapshot. */
    private static PhysicalMetadata base(int timeline, Lsn start, Lsn stop) {
        return new PhysicalMetadata("low-level", Long.toUnsignedString(SYSID), timeline, start, stop, start,
                WalNames.segmentOf(timeline, start, SEG), WalNames.segmentOf(timeline, stop, SEG), Instant.EPOCH, Instant.EPOCH, "15.14",
                150014, SEG, List.of(), true, "postgres", 131072, "", 0, 0);
    }

    private static Lsn at(long segment, long offset) {
        return new Lsn(segment * SEG + offset);
    }

    private WalWindow window(PhysicalMetadata base, int target) {
        Map<Integer, TimelineHistory> h = wal.histories(SYSID);
        return WalWindow.compute(wal, SYSID, base, WalWindow.pathFrom(base, "b1", target, h));
    }

    @Test
    void contiguousArchive_reachesItsNewestSegment() {
        archive(1, 3, 4, 5, 6);
        WalWindow w = window(base(1, at(3, 40), at(3, 400)), 1);
        assertEquals(at(7, 0), w.contiguousTo());
        assertNull(w.gap());
        assertEquals(List.of(3L, 4L, 5L, 6L), w.steps().stream().map(WalWindow.Step::segment).toList());
        assertTrue(w.steps().get(0).included(), "the backup's own segment is inside the snapshot");
    }

    @Test
    void aMissingSegmentWithLaterWal_isAGap_andNamed() {
        archive(1, 3, 4, 6, 7);
        WalWindow w = window(base(1, at(3, 40), at(3, 400)), 1);
        assertEquals("000000010000000000000005", w.gap());
        assertEquals("000000010000000000000006", w.afterGap());
        assertEquals(at(5, 0), w.contiguousTo());
    }

    @Test
    void theSnapshotsOwnWal_countsAsPresentWhenTheArchiveLacksIt() {
        archive(1, 5, 6);
        WalWindow w = window(base(1, at(3, 40), at(4, 400)), 1);
        assertNull(w.gap());
        assertEquals(at(7, 0), w.contiguousTo());
    }

    @Test
    void aChildTimeline_isFollowedFromItsSwitchSegment() {
        archive(1, 3, 4, 5, 6, 7);
        history(2, "1\t" + at(6, 100) + "\tno recovery target specified\n");
        archive(2, 6, 7, 8);
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
        archive(1, 3, 4, 5, 6, 7);
        history(2, "1\t" + at(6, 100) + "\tno recovery target specified\n");
        archive(2, 6, 7);
        PhysicalMetadata late = base(1, at(7, 40), at(7, 400));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> window(late, 2));
        assertEquals("timeline 2 forked from timeline 1 at " + at(6, 100) + ", before base backup b1 was consistent (" + at(7, 400)
                + " on timeline 1): its WAL cannot be replayed onto that backup. Use a base backup that ended before " + at(6, 100)
                + ", or recover along timeline 1 (--timeline 1)", e.getMessage());
    }

    @Test
    void aTimelineOfAnotherBranch_isRefused() {
        history(2, "1\t" + at(4, 0) + "\tx\n");
        history(3, "1\t" + at(4, 0) + "\tx\n2\t" + at(6, 0) + "\ty\n");
        history(4, "1\t" + at(5, 0) + "\tz\n");
        PhysicalMetadata onThree = base(3, at(7, 40), at(7, 400));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> window(onThree, 4));
        assertEquals("timeline 4 does not descend from timeline 3 of base backup b1 (timeline 4 comes from 1 → 4); use a base backup "
                + "taken on one of those timelines", e.getMessage());
    }
}
