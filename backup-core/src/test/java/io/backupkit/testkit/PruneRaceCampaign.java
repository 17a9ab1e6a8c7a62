package io.backupkit.testkit;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.CheckReport;
import io.backupkit.ForgetManager;
import io.backupkit.KeyProviders;
import io.backupkit.PruneManager;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RetentionPolicy;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.spi.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Backups and prunes racing: each round starts a backup and a forget + prune at the same moment, on two
 * repository handles (two "hosts") over the same storage. Backups reuse data of snapshots that the same
 * round's prune forgets, so prunes keep marking packs that a running backup is reusing. After every
 * round, QUICK verification of every listed snapshot: no blob a listed snapshot references is ever
 * missing; at the end every listed snapshot restores byte-exact and check passes. Storage failures
 * (fault-injecting proxies) may fail an operation, never the invariants.
 *
 * <pre>{@code
 * PruneRaceCampaign.Result r = new PruneRaceCampaign(() -> storage, keyFile, 50, 20261130L).run();
 * }</pre>
 */
public final class PruneRaceCampaign {
    /** What happened. */
    public record Result(int rounds, int backups, int backupsFailed, int prunes, int prunesFailed, long packsDeleted,
                         int packsResurrected, int packsPendingMax, int snapshots, List<String> failures) {
    }

    private static final long MIB = 1024 * 1024;
    private final Supplier<Storage> storage;
    private final Path keyFile;
    private final int rounds;
    private final long seed;
    private final Map<String, String> expected = new HashMap<>();

    public PruneRaceCampaign(Supplier<Storage> storage, Path keyFile, int rounds, long seed) {
        this.storage = storage;
        this.keyFile = keyFile;
        this.rounds = rounds;
        this.seed = seed;
    }

    private Repository open() {
        return Repository.builder().storage(storage.get()).keyProvider(KeyProviders.keyFile(keyFile)).open();
    }

    /** A stream built from pieces of a small pool: consecutive backups share most of their blobs. */
    static Supplier<InputStream> data(long a, long b) {
        return () -> new SequenceInputStream(RandomData.stream(a, MIB + 256 * 1024), RandomData.stream(b, 768 * 1024));
    }

    private String digest(long a, long b) {
        return expected.computeIfAbsent(a + "/" + b, k -> {
            try {
                return DigestTarget.digestOf(data(a, b).get()).getKey();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public Result run() throws Exception {
        try (Repository repo = Repository.builder().storage(storage.get()).keyProvider(KeyProviders.keyFile(keyFile))
                .packSize((int) MIB).chunkSizes(64 * 1024, 128 * 1024, 512 * 1024).create()) {
            BackupManager.builder().repository(repo).parallelism(2).tag("a", "0").tag("b", "0")
                    .source(new GeneratedSource().stream("s", data(0, 0))).build().backup();
        }
        Random random = new Random(seed);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        int backups = 0;
        int backupsFailed = 0;
        int prunes = 0;
        int prunesFailed = 0;
        long deleted = 0;
        int resurrected = 0;
        int pendingMax = 0;
        List<String> failures = new ArrayList<>();
        try (Repository backupHost = open(); Repository pruneHost = open()) {
            for (int round = 0; round < rounds; round++) {
                // a few pieces, reused across rounds: what one round forgets, the next backup often needs again
                long a = random.nextInt(4);
                long b = 10 + random.nextInt(3);
                int keep = 1 + random.nextInt(3);
                CyclicBarrier start = new CyclicBarrier(2);
                CompletableFuture<String> backup = CompletableFuture.supplyAsync(() -> {
                    await(start);
                    return BackupManager.builder().repository(backupHost).parallelism(2).tag("a", Long.toString(a))
                            .tag("b", Long.toString(b)).source(new GeneratedSource().stream("s", data(a, b))).build().backup().snapshotId();
                }, pool);
                CompletableFuture<PruneResult> prune = CompletableFuture.supplyAsync(() -> {
                    await(start);
                    ForgetManager.builder().repository(pruneHost).policy(RetentionPolicy.builder().keepLast(keep).build()).build().forget();
                    return PruneManager.builder().repository(pruneHost).timeMargin(Duration.ZERO).uncommittedGrace(Duration.ZERO)
                            .build().prune();
                }, pool);
                backups++;
                try {
                    backup.get(10, TimeUnit.MINUTES);
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof BackupException)) {
                        throw e;
                    }
                    backupsFailed++;
                    failures.add("round " + round + " backup: " + e.getCause());
                }
                prunes++;
                try {
                    PruneResult r = prune.get(10, TimeUnit.MINUTES);
                    deleted += r.packsDeleted();
                    resurrected += r.packsResurrected();
                    pendingMax = Math.max(pendingMax, r.packsPending());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof BackupException)) {
                        throw e;
                    }
                    prunesFailed++;
                    failures.add("round " + round + " prune: " + e.getCause());
                }
                // no blob a listed snapshot references is ever missing
                try (Repository check = open()) {
                    for (Snapshot s : check.snapshots().list()) {
                        VerificationReport q = Verifier.builder().repository(check).snapshot(s.id()).level(VerificationLevel.QUICK).build()
                                .verify();
                        if (!q.passed()) {
                            throw new AssertionError("round " + round + ": snapshot " + s.shortId() + " lost blobs: " + q.failures());
                        }
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        int snapshots;
        try (Repository repo = open()) {
            // once nothing runs, prune finishes what was pending
            PruneManager.builder().repository(repo).timeMargin(Duration.ZERO).uncommittedGrace(Duration.ZERO).build().prune();
            CheckReport check = repo.check();
            if (!check.ok()) {
                throw new AssertionError("check after " + rounds + " rounds: " + check.errors());
            }
            List<Snapshot> all = repo.snapshots().list();
            snapshots = all.size();
            for (Snapshot s : all) {
                DigestTarget t = new DigestTarget();
                RestoreManager.builder().repository(repo).snapshot(s.id()).target(t).parallelism(2).build().restore();
                String want = digest(Long.parseLong(s.tags().get("a")), Long.parseLong(s.tags().get("b")));
                if (!want.equals(t.digests().get("s"))) {
                    throw new AssertionError("snapshot " + s.shortId() + " does not restore byte-exact");
                }
            }
        }
        return new Result(rounds, backups, backupsFailed, prunes, prunesFailed, deleted, resurrected, pendingMax, snapshots,
                List.copyOf(failures));
    }

    private static void await(CyclicBarrier b) {
        try {
            b.await(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** For callers that want to list what the campaign saw. */
    public static List<String> describe(Result r) {
        List<String> out = new ArrayList<>();
        out.add(r.rounds() + " rounds: " + r.backups() + " backups (" + r.backupsFailed() + " failed), " + r.prunes() + " prunes ("
                + r.prunesFailed() + " failed), " + r.packsDeleted() + " packs deleted, " + r.packsResurrected() + " resurrected, at most "
                + r.packsPendingMax() + " pending, " + r.snapshots() + " snapshots left, all restored byte-exact");
        return out;
    }
}
