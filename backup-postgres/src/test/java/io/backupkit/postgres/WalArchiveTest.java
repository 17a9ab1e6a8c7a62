package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.LogConflictException;
import io.backupkit.LogPutResult;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Push, fetch, listing, continuity and expiry of the WAL archive, with synthetic segments. */
class WalArchiveTest {
    static final long SYSID = 7312345678901234567L;
    static final long OTHER = 7399999999999999999L;

    @TempDir
    Path dir;
    Repository repo;
    WalArchive wal;
    Path pgWal;

    @BeforeEach
    void open() {
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
        wal = WalArchive.of(repo);
        pgWal = dir.resolve("pg_wal");
    }

    @AfterEach
    void close() {
        repo.close();
    }

    @Test
    void push_storesTheSegmentUnderClusterAndTimeline_andRecordsTheCluster() {
        Path seg = FakeWal.writeSegment(pgWal, SYSID, 1, 3);
        WalArchive.PushResult r = wal.push(seg);
        assertEquals(LogPutResult.Status.STORED, r.status());
        assertEquals(SYSID, r.systemId());
        assertEquals(1, r.timeline());
        assertTrue(wal.logArchive().exists(Long.toUnsignedString(SYSID) + "/00000001/000000010000000000000003"));
        assertEquals(List.of(SYSID), wal.systemIds());
        assertEquals(FakeWal.SEGMENT_SIZE, wal.cluster(SYSID).orElseThrow().segmentSize());
    }

    @Test
    void push_twiceWithTheSameContent_succeeds_differentContent_isAHardError() throws IOException {
        Path seg = FakeWal.writeSegment(pgWal, SYSID, 1, 3);
        wal.push(seg);
        assertEquals(LogPutResult.Status.ALREADY_PRESENT, wal.push(seg).status());
        byte[] changed = Files.readAllBytes(seg);
        changed[5000] ^= 1;
        Files.write(seg, changed);
        LogConflictException e = assertThrows(LogConflictException.class, () -> wal.push(seg));
        assertTrue(e.getMessage().startsWith("WAL file 000000010000000000000003 of cluster " + Long.toUnsignedString(SYSID)
                + " is already archived with different content: "), e.getMessage());
    }

    @Test
    void push_ofASegmentFromAnotherCluster_isRefusedAndNamesBothClusters() {
        Path data = FakeWal.dataDirectory(dir.resolve("data"), SYSID);
        WalArchive checked = WalArchive.builder().repository(repo).dataDirectory(data).build();
        Path foreign = FakeWal.writeSegment(pgWal, OTHER, 1, 3);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> checked.push(foreign));
        assertEquals("WAL segment " + foreign + " belongs to another cluster: its page header has system identifier "
                + Long.toUnsignedString(OTHER) + ", but the server archiving it (" + data + ") is cluster "
                + Long.toUnsignedString(SYSID) + ". Nothing was archived.", e.getMessage());
        assertTrue(wal.systemIds().isEmpty());
    }

    @Test
    void push_ofASecondCluster_isRefusedUnlessAllowed() {
        wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, 3));
        Path other = FakeWal.writeSegment(dir.resolve("other"), OTHER, 1, 3);
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> wal.push(other));
        assertTrue(e.getMessage().startsWith("WAL segment " + other + " is from cluster " + Long.toUnsignedString(OTHER)
                + ", but repository " + repo.location() + " archives the WAL of cluster " + Long.toUnsignedString(SYSID)), e.getMessage());
        assertTrue(e.getMessage().contains("allow it once with --new-cluster"), e.getMessage());
        WalArchive allowing = WalArchive.builder().repository(repo).allowNewCluster(true).build();
        assertEquals(LogPutResult.Status.STORED, allowing.push(other).status());
        assertEquals(2, wal.systemIds().size());
        // once recorded, the second cluster pushes without the flag
        assertEquals(LogPutResult.Status.STORED, wal.push(FakeWal.writeSegment(dir.resolve("other"), OTHER, 1, 4)).status());
    }

    @Test
    void push_ofARenamedSegment_isRefused() throws IOException {
        Path seg = FakeWal.writeSegment(pgWal, SYSID, 1, 3);
        Path renamed = Files.move(seg, pgWal.resolve("000000010000000000000005"));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> wal.push(renamed));
        assertEquals("WAL segment " + renamed + " holds WAL from 0/300000 but its name says 0/500000: a renamed or mixed-up file."
                + " Nothing was archived.", e.getMessage());
    }

    @Test
    void push_ofAShortOrNonWalFile_isRefused() throws IOException {
        Path seg = FakeWal.writeSegment(pgWal, SYSID, 1, 3);
        byte[] all = Files.readAllBytes(seg);
        Files.write(seg, Arrays.copyOf(all, all.length / 2));
        ConfigurationException shortFile = assertThrows(ConfigurationException.class, () -> wal.push(seg));
        assertEquals("WAL segment " + seg + " has 524288 bytes but its page header says segments are 1048576 bytes: an incomplete copy?"
                + " Nothing was archived.", shortFile.getMessage());
        Path junk = FakeWal.write(pgWal, "000000010000000000000004", new byte[(int) FakeWal.SEGMENT_SIZE]);
        ConfigurationException notWal = assertThrows(ConfigurationException.class, () -> wal.push(junk));
        assertTrue(notWal.getMessage().endsWith("does not start with a WAL page header: it is not a WAL segment, or it is damaged."
                + " Nothing was archived."), notWal.getMessage());
        Path badName = FakeWal.write(pgWal, "something.txt", new byte[10]);
        assertThrows(ConfigurationException.class, () -> wal.push(badName));
    }

    @Test
    void historyAndBackupFiles_goToTheOnlyClusterOrTheDataDirectorysCluster() {
        wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, 3));
        byte[] history = "1\t0/3000A28\tno recovery target specified\n".getBytes(StandardCharsets.US_ASCII);
        wal.push(FakeWal.write(pgWal, "00000002.history", history));
        assertTrue(wal.logArchive().exists(Long.toUnsignedString(SYSID) + "/history/00000002.history"));
        TimelineHistory h = wal.history(SYSID, 2).orElseThrow();
        assertEquals(1, h.parent());
        assertEquals(Lsn.parse("0/3000A28"), h.branchPoint());
        wal.push(FakeWal.write(pgWal, "000000010000000000000003.00000028.backup", "START WAL LOCATION: 0/3000028\n".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(wal.logArchive().exists(Long.toUnsignedString(SYSID) + "/00000001/000000010000000000000003.00000028.backup"));
    }

    @Test
    void fetch_returnsTheSegment_orNotFound() throws IOException {
        Path seg = FakeWal.writeSegment(pgWal, SYSID, 1, 3);
        wal.push(seg);
        Path dest = dir.resolve("restore/RECOVERYXLOG");
        Files.createDirectories(dest.getParent());
        WalArchive.FetchResult r = wal.fetch("000000010000000000000003", dest);
        assertEquals(WalArchive.FetchStatus.FOUND, r.status());
        assertArrayEquals(Files.readAllBytes(seg), Files.readAllBytes(dest));
        assertEquals(WalArchive.FetchStatus.NOT_FOUND, wal.fetch("000000010000000000000004", dest).status());
        assertEquals(WalArchive.FetchStatus.NOT_FOUND, wal.fetch("00000002.history", dest).status());
        try (var s = Files.list(dest.getParent())) {
            assertEquals(List.of(dest), s.toList(), "no temporary files left");
        }
    }

    @Test
    void fetch_ofASegmentArchivedOnlyAsStreamingPartials_returnsTheLongestZeroPadded() throws IOException {
        wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, 3));
        byte[] seg4 = FakeWal.segment(SYSID, 1, 4, FakeWal.SEGMENT_SIZE, 9);
        String obj = WalObjectNames.of(SYSID, WalNames.streamPartialName("000000010000000000000004", 1000));
        wal.logArchive().put(obj, Arrays.copyOf(seg4, 1000), Map.of());
        String obj2 = WalObjectNames.of(SYSID, WalNames.streamPartialName("000000010000000000000004", 300000));
        wal.logArchive().put(obj2, Arrays.copyOf(seg4, 300000), Map.of());
        Path dest = dir.resolve("x");
        WalArchive.FetchResult r = wal.fetch(SYSID, "000000010000000000000004", dest);
        assertEquals(WalArchive.FetchStatus.FOUND_PARTIAL, r.status());
        assertEquals(300000, r.validBytes());
        byte[] got = Files.readAllBytes(dest);
        assertEquals(FakeWal.SEGMENT_SIZE, got.length);
        assertArrayEquals(Arrays.copyOf(seg4, 300000), Arrays.copyOf(got, 300000));
        assertTrue(allZero(got, 300000), "zero-padded after the valid bytes");
    }

    private static boolean allZero(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void continuity_namesEachGap() {
        for (long s : new long[] {2, 3, 4, 7, 8, 10}) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, s));
        }
        WalContinuity c = wal.continuity(SYSID, 1, Lsn.parse("0/200028"));
        assertTrue(c.hasGaps());
        assertEquals(List.of("timeline 1: 000000010000000000000005..000000010000000000000006 (2 segments)",
                "timeline 1: 000000010000000000000009"), c.gapNames());
        WalContinuity.TimelineRange t = c.timelines().get(0);
        assertEquals(Lsn.parse("0/500000"), t.contiguousTo());
        assertEquals("00000001000000000000000A", t.lastSegment());
        assertFalse(t.complete());
        WalContinuity fromSeven = wal.continuity(SYSID, 1, Lsn.parse("0/700000"));
        assertEquals(List.of("timeline 1: 000000010000000000000009"), fromSeven.gapNames());
    }

    @Test
    void continuity_followsTimelinesThatBranchedAfterTheStart() {
        for (long s = 2; s <= 6; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, s));
        }
        // timeline 2 branched from 1 in segment 5; timeline 3 branched from 1 in segment 2 (before the start)
        wal.push(FakeWal.write(pgWal, "00000002.history", "1\t0/500100\tpromoted\n".getBytes(StandardCharsets.US_ASCII)));
        wal.push(FakeWal.write(pgWal, "00000003.history", "1\t0/200100\tpromoted\n".getBytes(StandardCharsets.US_ASCII)));
        for (long s = 5; s <= 8; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 2, s));
        }
        WalContinuity c = wal.continuity(SYSID, 1, Lsn.parse("0/300028"));
        assertFalse(c.hasGaps(), c.describe());
        assertEquals(List.of(1, 2), c.timelines().stream().map(WalContinuity.TimelineRange::timeline).toList());
        WalContinuity.TimelineRange t2 = c.timelines().get(1);
        assertEquals(1, t2.parent());
        assertEquals(Lsn.parse("0/500100"), t2.from());
        assertEquals(Lsn.parse("0/900000"), t2.contiguousTo());
        assertTrue(t2.complete());
        // a gap on timeline 1 before the branch point makes timeline 2 unreachable
        wal.logArchive().delete(WalObjectNames.of(SYSID, "000000010000000000000004"));
        WalContinuity broken = wal.continuity(SYSID, 1, Lsn.parse("0/300028"));
        assertTrue(broken.hasGaps());
        assertFalse(broken.timelines().get(1).reachable());
        assertTrue(broken.describe().contains("timeline 2 (from 1): 0/500100 .. 0/900000, newest segment 000000020000000000000008,"
                + " unreachable (gap on the parent timeline before the branch point)"), broken.describe());
    }

    @Test
    void continuity_countsAStreamingPartialAsTheEnd() {
        wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, 2));
        byte[] seg3 = FakeWal.segment(SYSID, 1, 3, FakeWal.SEGMENT_SIZE, 1);
        wal.logArchive().put(WalObjectNames.of(SYSID, WalNames.streamPartialName("000000010000000000000003", 0x1234)),
                Arrays.copyOf(seg3, 0x1234), Map.of());
        WalContinuity c = wal.continuity(SYSID, 1, Lsn.parse("0/200028"));
        assertFalse(c.hasGaps(), c.describe());
        assertEquals(Lsn.parse("0/301234"), c.timelines().get(0).contiguousTo());
    }

    @Test
    void expire_deletesSegmentsBeforeTheKeptStart_onEveryTimeline_butNoHistory() {
        for (long s = 2; s <= 6; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, s));
        }
        wal.push(FakeWal.write(pgWal, "00000002.history", "1\t0/500100\tpromoted\n".getBytes(StandardCharsets.US_ASCII)));
        for (long s = 5; s <= 6; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 2, s));
        }
        WalArchive.ExpireResult dry = wal.expire(SYSID, Lsn.parse("0/400028"), true);
        assertEquals(List.of("000000010000000000000002", "000000010000000000000003"), dry.files());
        assertEquals(7, wal.files(SYSID).stream().filter(f -> f.kind() == WalArchive.WalFile.Kind.SEGMENT).count(), "dry run deletes nothing");
        WalArchive.ExpireResult done = wal.expire(SYSID, Lsn.parse("0/600000"), false);
        assertEquals(List.of("000000010000000000000002", "000000010000000000000003", "000000010000000000000004",
                "000000010000000000000005", "000000020000000000000005"), done.files());
        assertTrue(wal.history(SYSID, 2).isPresent());
        assertFalse(wal.continuity(SYSID, 1, Lsn.parse("0/600000")).hasGaps());
    }

    static io.backupkit.Snapshot physical(long sysid, String startLsn) {
        return new io.backupkit.Snapshot("a".repeat(64), java.time.Instant.now(), "h", "postgresql", "src", Map.of(), List.of(),
                Map.of("kind", "physical", "systemId", Long.toUnsignedString(sysid), "startLsn", startLsn, "timeline", 1),
                0, 0, 0);
    }

    @Test
    void logRetention_isFoundByServiceLoader_andKeepsWalFromTheOldestRetainedBaseBackup() {
        for (long s = 2; s <= 6; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, s));
        }
        io.backupkit.spi.LogRetention retention = java.util.ServiceLoader.load(io.backupkit.spi.LogRetention.class).stream()
                .map(java.util.ServiceLoader.Provider::get).filter(r -> r.engine().equals("postgresql")).findFirst().orElseThrow();
        // no physical snapshot retained: nothing is said to be unneeded
        io.backupkit.spi.LogRetention.Result none = retention.apply(repo, List.of(), false);
        assertTrue(none.objects().isEmpty());
        assertEquals(List.of("cluster " + Long.toUnsignedString(SYSID) + ": no retained base backup; its WAL is kept"), none.notes());
        io.backupkit.spi.LogRetention.Result dry = retention.apply(repo, List.of(physical(SYSID, "0/500028"), physical(SYSID, "0/400100")), true);
        assertEquals(List.of("wal/" + Long.toUnsignedString(SYSID) + "/00000001/000000010000000000000002",
                "wal/" + Long.toUnsignedString(SYSID) + "/00000001/000000010000000000000003"), dry.objects());
        assertEquals(5, wal.files(SYSID).size(), "dry run deletes nothing");
        retention.apply(repo, List.of(physical(SYSID, "0/400100")), false);
        assertEquals(List.of("000000010000000000000004", "000000010000000000000005", "000000010000000000000006"),
                wal.files(SYSID).stream().map(WalArchive.WalFile::fileName).toList());
    }
}
