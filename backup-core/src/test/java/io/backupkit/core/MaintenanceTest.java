package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.CheckReport;
import io.backupkit.CopyResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.LockSummary;
import io.backupkit.Repository;
import io.backupkit.RepositoryChecker;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotCopier;
import io.backupkit.SnapshotDiff;
import io.backupkit.SnapshotStats;
import io.backupkit.Statistics;
import io.backupkit.StatsReport;
import io.backupkit.UnlockResult;
import io.backupkit.Unlocker;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLocation;
import io.backupkit.internal.repo.BlobReader;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.testkit.ChildMain;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** check --read-data, unlock, stats, diff and copy on real repositories on disk (issue 11). */
class MaintenanceTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    @TempDir
    Path dir;

    private Path keyFile(String name) {
        return KeyProviders.generateKeyFile(dir.resolve(name + ".key"));
    }

    private Repository create(Path repoDir, Path keyFile) {
        return Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB)
                .chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024).create();
    }

    private static String backup(Repository repo, Map<String, Supplier<InputStream>> streams) {
        GeneratedSource source = new GeneratedSource();
        streams.forEach(source::stream);
        return BackupManager.builder().repository(repo).parallelism(2).source(source).build().backup().snapshotId();
    }

    @Test
    void readData_findsAByteFlippedInAnyPack_thatTheStructuralCheckCannotSee() throws Exception {
        Path repoDir = dir.resolve("repo");
        Path key = keyFile("k");
        BlobLocation victim;
        try (Repository repo = create(repoDir, key)) {
            String id = backup(repo, Map.of("a", () -> RandomData.stream(1, 3 * MIB), "b", () -> DumpLikeData.stream(2, 2 * MIB)));
            CheckReport all = RepositoryChecker.builder().repository(repo).readData(true).build().check();
            assertTrue(all.ok(), all.errors().toString());
            assertEquals(all.packs(), all.packsRead());
            assertTrue(all.bytesRead() >= 3 * MIB);
            // a data blob (not a blob list, which the structural check reads)
            DefaultRepository d = (DefaultRepository) repo;
            Manifest m = d.manifest(id);
            BlobId data = new BlobReader(d, d.locationIndex()).ids(m.stream("a"), "snapshots/" + id).next();
            victim = d.locationIndex().get(data);
        }
        List<Path> packs;
        try (var walk = Files.walk(repoDir.resolve("data"))) {
            packs = walk.filter(Files::isRegularFile).sorted().toList();
        }
        Path pack = repoDir.resolve(victim.pack());
        byte[] b = Files.readAllBytes(pack);
        b[victim.offset() + new Random(3).nextInt(victim.length())] ^= 0x40;
        Files.write(pack, b);
        String name = victim.pack();
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(KeyProviders.keyFile(key)).open()) {
            assertTrue(repo.check().ok(), "the structure is intact: only data is damaged");
            CheckReport read = RepositoryChecker.builder().repository(repo).readData(true).build().check();
            assertFalse(read.ok());
            assertTrue(read.errors().get(0).contains(name), read.errors().toString());
            CheckReport half = RepositoryChecker.builder().repository(repo).readDataSubset(0.5).seed(7).build().check();
            assertEquals((int) Math.ceil(packs.size() * 0.5), half.packsRead());
        }
    }

    @Test
    void unlock_removesLocksOfDeadProcessesAndStaleOnes_keepsLive_forceRemovesAllSayingSo() throws Exception {
        Path repoDir = dir.resolve("repo");
        Path key = keyFile("k");
        try (Repository repo = create(repoDir, key)) {
            DefaultRepository d = (DefaultRepository) repo;
            // a process on this host that holds a lock and is killed
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process child = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                    ChildMain.class.getName(), "hold-lock", repoDir.toString(), key.toString())).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                assertEquals("locked", r.readLine());
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(1, TimeUnit.MINUTES));
            // one not refreshed for an hour (by its holder's clock and by the storage's), one held by this process,
            // and one of a running process on a host whose clock is an hour behind: fresh in storage time, so kept
            LockManager.Lock old = new LockManager(repo.storage(), d.sealer(), Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)))
                    .acquire(false, "restore");
            Files.setLastModifiedTime(repoDir.resolve(old.name()), FileTime.from(Instant.now().minus(Duration.ofHours(1))));
            LockManager.Lock skewed = new LockManager(repo.storage(), d.sealer(), Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)))
                    .acquire(false, "verify");
            try (LockManager.Lock live = d.locks().acquire(false, "backup")) {
                List<LockSummary> all = Unlocker.builder().repository(repo).build().list();
                assertEquals(4, all.size(), all.toString());
                UnlockResult r = Unlocker.builder().repository(repo).build().unlock();
                assertEquals(2, r.removed().size(), r.toString());
                assertTrue(r.removed().stream().anyMatch(l -> l.why().contains("is gone") && l.operation().equals("hold-lock")), r.toString());
                assertTrue(r.removed().stream().anyMatch(l -> l.why().startsWith("not refreshed for 6") && l.operation().equals("restore")),
                        r.toString());
                assertEquals(List.of("backup", "verify"), r.kept().stream().map(LockSummary::operation).sorted().toList(),
                        "a live lock is never called stale because its host's clock runs behind");
                assertEquals(2, repo.storage().list("locks/").size());

                UnlockResult forced = Unlocker.builder().repository(repo).force(true).build().unlock();
                assertTrue(forced.forced());
                assertEquals(2, forced.removed().size());
                assertTrue(forced.removed().stream().noneMatch(LockSummary::stale), "force reports that it removed live locks");
                assertEquals(0, repo.storage().list("locks/").size());
            }
            old.close();
            skewed.close();
        }
    }

    @Test
    void stats_rawStoredAndExclusiveBytes_perSnapshotAndRepository() throws Exception {
        try (Repository repo = create(dir.resolve("repo"), keyFile("k"))) {
            Supplier<InputStream> shared = () -> RandomData.stream(1, 2 * MIB);
            String a = backup(repo, Map.of("shared", shared, "own", () -> RandomData.stream(2, 512 * KIB)));
            String b = backup(repo, Map.of("shared", shared, "own", () -> RandomData.stream(3, 768 * KIB)));
            StatsReport s = Statistics.builder().repository(repo).build().compute();
            assertEquals(2, s.snapshotCount());
            assertEquals(2 * 2 * MIB + 512 * KIB + 768 * KIB, s.rawBytes());
            // the data once, plus the few hundred bytes of the snapshots' blob lists
            long data = 2 * MIB + 512 * KIB + 768 * KIB;
            assertTrue(s.uniqueRawBytes() >= data && s.uniqueRawBytes() < data + 4 * KIB, s.toString());
            assertEquals(5376.0 / 3328, s.dedupRatio(), 0.01, "dedup");
            assertTrue(s.storedBytes() >= s.deduplicatedBytes() && s.deduplicatedBytes() >= s.uniqueRawBytes(), s.toString());
            SnapshotStats sb = s.snapshots().stream().filter(x -> x.id().equals(b)).findFirst().orElseThrow();
            assertEquals(2 * MIB + 768 * KIB, sb.rawBytes());
            // what forgetting b frees: its own 768 KiB (random data stores at its size, plus seals) and its blob lists
            assertTrue(sb.exclusiveBytes() >= 768 * KIB && sb.exclusiveBytes() < 800 * KIB, sb.toString());
            StatsReport onlyA = Statistics.builder().repository(repo).snapshot(a.substring(0, 8)).build().compute();
            assertEquals(List.of(a), onlyA.snapshots().stream().map(SnapshotStats::id).toList());
            assertEquals(s.rawBytes(), onlyA.rawBytes(), "repository totals are always for all snapshots");
        }
    }

    @Test
    void diff_namesStreamsAndTablesThatChanged_withTheBytes() throws Exception {
        // a fixed chunker seed: with a random one, the chunks around this edit of a 2 MiB stream (64 KiB /
        // 256 KiB / 1 MiB) sum to 0.2-1.6 MiB depending on where they fall, so "< 1 MiB" failed now and then
        DefaultRepository.RepositoryBuilder seeded = (DefaultRepository.RepositoryBuilder) Repository.builder()
                .storage(LocalStorage.of(dir.resolve("repo"))).keyProvider(KeyProviders.keyFile(keyFile("k"))).packSize((int) MIB)
                .chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024);
        seeded.chunkerSeed(5);
        try (Repository repo = seeded.create()) {
            String a = backup(repo, Map.of("same", () -> DumpLikeData.stream(1, MIB), "edited", () -> DumpLikeData.stream(2, 2 * MIB),
                    "dropped", () -> RandomData.stream(3, 100 * KIB)));
            String b = backup(repo, Map.of("same", () -> DumpLikeData.stream(1, MIB),
                    "edited", () -> DumpLikeData.edited(2, 2 * MIB, 1, 50), "new", () -> RandomData.stream(4, 200 * KIB)));
            SnapshotDiff d = SnapshotDiff.between(repo, a, b);
            Map<String, SnapshotDiff.StreamDiff> byName = new java.util.HashMap<>();
            d.streams().forEach(s -> byName.put(s.name(), s));
            assertEquals(SnapshotDiff.Change.UNCHANGED, byName.get("same").change());
            assertEquals(SnapshotDiff.Change.REMOVED, byName.get("dropped").change());
            assertEquals(SnapshotDiff.Change.ADDED, byName.get("new").change());
            assertEquals(200 * KIB, byName.get("new").bytesAdded());
            SnapshotDiff.StreamDiff edited = byName.get("edited");
            assertEquals(SnapshotDiff.Change.CHANGED, edited.change());
            assertTrue(edited.bytesAdded() > 0 && edited.bytesAdded() < MIB, edited.toString());
            assertTrue(edited.bytesRemoved() > 0 && edited.bytesRemoved() < MIB, edited.toString());
            assertEquals(200 * KIB + edited.bytesAdded(), d.bytesAdded());
        }
    }

    @Test
    void copy_toAnotherRepository_restoresTheSame_skipsWhatIsThere_andReusesBlobsAndStreams() throws Exception {
        Path sourceKey = keyFile("src");
        Path destKey = keyFile("dst");
        try (Repository source = create(dir.resolve("src"), sourceKey);
             Repository dest = create(dir.resolve("dst"), destKey)) {
            Supplier<InputStream> big = () -> DumpLikeData.stream(5, 4 * MIB);
            String first = backup(source, Map.of("big", big, "small", () -> RandomData.stream(6, 300 * KIB)));
            String second = backup(source, Map.of("big", big, "small", () -> RandomData.stream(7, 300 * KIB)));
            CopyResult r = SnapshotCopier.builder().source(source).destination(dest).build().copy();
            assertEquals(2, r.copied().size());
            assertEquals(1, r.streamsReused(), "the second snapshot's big stream is already there: " + r);
            for (CopyResult.Copied c : r.copied()) {
                Snapshot s = source.snapshots().get(c.sourceId());
                Snapshot t = dest.snapshots().get(c.destinationId());
                assertEquals(s.time(), t.time());
                assertEquals(s.tags(), t.tags());
                assertEquals(Repos.restore(source, c.sourceId()).digests(), Repos.restore(dest, c.destinationId()).digests());
            }
            assertTrue(dest.check().ok(), dest.check().errors().toString());

            CopyResult again = SnapshotCopier.builder().source(source).destination(dest).build().copy();
            assertEquals(List.of(first, second).stream().sorted().toList(), again.skipped().stream().sorted().toList());
            assertEquals(0, again.copied().size());

            // a third backup with an edit: only what changed is uploaded to the destination
            backup(source, Map.of("big", () -> DumpLikeData.edited(5, 4 * MIB, 2, 30), "small", () -> RandomData.stream(7, 300 * KIB)));
            CopyResult third = SnapshotCopier.builder().source(source).destination(dest).snapshot("latest").build().copy();
            assertEquals(1, third.copied().size());
            assertTrue(third.bytesWritten() < 600 * KIB, "uploaded " + third.bytesWritten());
            assertEquals(DigestTarget.digestOf(DumpLikeData.edited(5, 4 * MIB, 2, 30)).getKey(),
                    Repos.restore(dest, third.copied().get(0).destinationId()).digests().get("big"));
        }
    }

    static InterceptingStorage counting(Path p) {
        return new InterceptingStorage(LocalStorage.of(p));
    }
}
