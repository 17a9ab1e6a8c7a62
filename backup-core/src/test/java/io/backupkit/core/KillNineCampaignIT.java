package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.CheckReport;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.PruneManager;
import io.backupkit.PruneResult;
import io.backupkit.Snapshot;
import io.backupkit.Unlocker;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.ChildMain;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kill -9 campaign of issue 9 (and 11): a child JVM backing up, or forgetting and pruning, a real
 * repository on disk is killed with SIGKILL at random points (seeded). After every kill: {@code check}
 * passes, no partial snapshot is listed, every listed snapshot restores byte-exact, and the next backup
 * (after a killed backup) or prune (after a killed prune) succeeds.
 *
 * <p>{@code -Dbackupkit.kills=N} (default 40: 20 backups and 20 prunes, so each kind gets the issue's
 * ≥ 20 points) sets the number of kills, {@code -Dbackupkit.seed=S} the seed.
 */
class KillNineCampaignIT {
    private static final long BYTES = 3L * 1024 * 1024;
    private static final int KILLS = Integer.getInteger("backupkit.kills", 40);
    private static final long SEED = Long.getLong("backupkit.seed", 20261130L);

    @TempDir
    Path dir;

    private final Map<String, String> expectedDigests = new HashMap<>();
    private long prunedPacks;

    private static Process start(String... args) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "-Xmx160m", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), ChildMain.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private Process startBackup(Path repoDir, Path keyFile, long seed, String kind) throws IOException {
        return start("backup", repoDir.toString(), keyFile.toString(), Long.toString(seed), Long.toString(BYTES), kind, "1");
    }

    private String expected(String kind, long seed, long bytes) throws IOException {
        String key = kind + "/" + seed + "/" + bytes;
        String d = expectedDigests.get(key);
        if (d == null) {
            d = DigestTarget.digestOf(ChildMain.data(kind, seed, bytes).get()).getKey();
            expectedDigests.put(key, d);
        }
        return d;
    }

    /** Runs a child and kills it at a random point (random null: lets it finish); returns true when it was killed. */
    private boolean runOnce(Path repoDir, Path keyFile, long seed, String kind, Random random, long fullMillis, int expectedPacks)
            throws Exception {
        return runOnce(startBackup(repoDir, keyFile, seed, kind), random, fullMillis, expectedPacks, "stored ");
    }

    /** Kills {@code child} after a random delay or after its k-th line starting with {@code progressPrefix}. */
    private boolean runOnce(Process child, Random random, long fullMillis, int expectedLines, String progressPrefix) throws Exception {
        List<String> lines = new ArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the child was killed
            }
        });
        if (random == null) {
            child.waitFor(10, TimeUnit.MINUTES);
        } else if (random.nextBoolean()) {
            // anywhere in the run: JVM start, open, lock, packs, checkpoints, index, manifest, release
            long delay = (long) (random.nextDouble() * fullMillis);
            child.waitFor(delay, TimeUnit.MILLISECONDS);
        } else {
            // right after the k-th pack reached storage: between pack, checkpoint and the next pack
            int k = 1 + random.nextInt(Math.max(1, expectedLines));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            synchronized (lines) {
                while (lines.stream().filter(l -> l.startsWith(progressPrefix)).count() < k && child.isAlive()
                        && System.nanoTime() < deadline) {
                    lines.wait(50);
                }
            }
        }
        boolean killed = child.isAlive();
        child.destroyForcibly();
        assertTrue(child.waitFor(2, TimeUnit.MINUTES));
        reader.get(1, TimeUnit.MINUTES);
        if (!killed) {
            assertEquals(0, child.exitValue(), "an unkilled child must succeed: " + lines);
        }
        return killed;
    }

    private void checkRepository(Path repoDir, Path keyFile, int round, boolean nextBackup) throws Exception {
        checkRepository(repoDir, keyFile, round, nextBackup, false);
    }

    private void checkRepository(Path repoDir, Path keyFile, int round, boolean nextBackup, boolean nextPrune) throws Exception {
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
            CheckReport check = repo.check();
            assertTrue(check.ok(), "round " + round + ": check must pass: " + check.errors());
            for (Snapshot s : repo.snapshots().list()) {
                String kind = s.tags().get("kind");
                assertNotNull(kind, "round " + round + ": snapshot " + s.shortId() + " has no tags: partial?");
                String want = expected(kind, Long.parseLong(s.tags().get("seed")), Long.parseLong(s.tags().get("bytes")));
                DigestTarget t = Repos.restore(repo, s.id());
                assertEquals(want, t.digests().get("data"), "round " + round + ": snapshot " + s.shortId() + " must restore byte-exact");
            }
            // what an operator does after a crash: locks of processes that are gone are removed
            Unlocker.builder().repository(repo).build().unlock();
            if (nextPrune) {
                PruneResult p = PruneManager.builder().repository(repo).timeMargin(Duration.ZERO).uncommittedGrace(Duration.ZERO)
                        .build().prune();
                prunedPacks += p.packsDeleted();
                CheckReport after = repo.check();
                assertTrue(after.ok(), "round " + round + ": check after the next prune: " + after.errors());
            }
            if (nextBackup) {
                long seed = 900_000 + round;
                BackupManager.builder().repository(repo).parallelism(2)
                        .tag("seed", Long.toString(seed)).tag("kind", "random").tag("bytes", "262144")
                        .source(new GeneratedSource().stream("data", ChildMain.data("random", seed, 262144))).build().backup();
            }
        }
    }

    @Test
    void backupsKilledAtRandomPoints_leaveARepositoryThatChecksRestoresAndBacksUp() throws Exception {
        Path repoDir = dir.resolve("repo");
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        try (Repository repo = ((DefaultRepository.RepositoryBuilder) Repository.builder().storage(LocalStorage.of(repoDir))
                .keyProvider(KeyProviders.keyFile(keyFile)).packSize(1024 * 1024).chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024))
                .chunkerSeed(SEED).create()) {
            assertEquals(0, repo.snapshots().list().size());
        }
        Random random = new Random(SEED);
        // undisturbed runs tell how long a child takes (the faster of two: the first one warms the caches)
        long fullMillis = Long.MAX_VALUE;
        for (int seed = 1; seed <= 2; seed++) {
            long t0 = System.nanoTime();
            assertEquals(false, runOnce(repoDir, keyFile, seed, "random", null, 0, 0));
            fullMillis = Math.min(fullMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        }
        int expectedPacks = (int) (BYTES / (1024 * 1024)) + 1;
        // and how long an undisturbed forget + prune takes
        long pruneMillis;
        {
            long t0 = System.nanoTime();
            Process p = start("prune", repoDir.toString(), keyFile.toString(), "6");
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            assertEquals(0, p.exitValue());
            pruneMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        }
        int backupKills = 0;
        int pruneKills = 0;
        int completed = 2;
        for (int round = 0; (backupKills < KILLS / 2 || pruneKills < KILLS - KILLS / 2) && round < KILLS * 3; round++) {
            boolean prune = backupKills >= KILLS / 2 || (pruneKills < KILLS - KILLS / 2 && round % 2 == 1);
            if (prune) {
                int keep = 2 + random.nextInt(4);
                // the prune's phases, one line each: reading, marking, repacking, deleting
                if (runOnce(start("prune", repoDir.toString(), keyFile.toString(), Integer.toString(keep)), random, pruneMillis, 7,
                        "prune ")) {
                    pruneKills++;
                } else {
                    completed++;
                }
                checkRepository(repoDir, keyFile, round, false, true);
            } else {
                long seed = 1000 + random.nextInt(1_000_000);
                String kind = random.nextInt(3) == 0 ? "random" : "dump";
                if (runOnce(repoDir, keyFile, seed, kind, random, fullMillis, expectedPacks)) {
                    backupKills++;
                } else {
                    completed++;
                }
                checkRepository(repoDir, keyFile, round, true, false);
            }
        }
        System.out.printf("kill -9 campaign: %d backups and %d prunes killed, %d children completed, %d packs pruned after kills, "
                + "seed %d, full backup %d ms, full prune %d ms%n", backupKills, pruneKills, completed, prunedPacks, SEED, fullMillis,
                pruneMillis);
        assertTrue(backupKills + pruneKills >= KILLS && pruneKills >= KILLS / 3, "only " + backupKills + " + " + pruneKills + " kills");
        assertTrue(prunedPacks > 0, "prunes after kills deleted data");
        checkRepository(repoDir, keyFile, -1, false);
    }
}
