package io.backupkit.internal.pipeline;

import io.backupkit.ConfigurationException;
import io.backupkit.ProgressListener;
import io.backupkit.Repository;
import io.backupkit.RestorePlan;
import io.backupkit.RestoreResult;
import io.backupkit.internal.repo.BlobIndex;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One restore (or dry run) of a snapshot into a target. */
public final class RestoreRun {
    private final DefaultRepository repo;
    private final String snapshot;
    private final RestoreTarget target;
    private final int parallelism;
    private final boolean dryRun;
    private final List<ProgressListener> listeners;
    private final CommandExecutor executor;

    public RestoreRun(Repository repository, String snapshot, RestoreTarget target, int parallelism, boolean dryRun,
                      List<ProgressListener> listeners, CommandExecutor executor) {
        this.repo = PipelineSupport.internal(repository);
        this.snapshot = snapshot;
        this.target = target;
        this.parallelism = parallelism;
        this.dryRun = dryRun;
        this.listeners = listeners;
        this.executor = executor;
    }

    public RestoreResult run() {
        long t0 = System.nanoTime();
        // "latest" is the target's choice: a point-in-time target needs a base backup before its target
        String id = "latest".equals(snapshot) ? target.latest(repo, repo.snapshots().list()).id() : resolve(snapshot);
        // the index is read beside the lock's second conflict check, once the lock object is visible to a prune: on S3
        // one round trip less before the first data read (docs/performance.md, "s3s30")
        CompletableFuture<BlobIndex> index = new CompletableFuture<>();
        try (LockManager.Lock lock = repo.locks().acquire(LockManager.SHARED, dryRun ? "restore plan" : "restore",
                () -> index.complete(repo.locationIndex()));
             SnapshotReader reader = new SnapshotReader(repo, id, index.join(), parallelism, executor, listeners)) {
            String engine = reader.snapshot().engine();
            if (!engine.equals(target.engine())) {
                throw new ConfigurationException("snapshot " + reader.snapshot().shortId() + " holds a " + engine
                        + " backup; it cannot be restored into a " + target.engine() + " target");
            }
            RestorePlan plan = target.plan(reader);
            if (dryRun) {
                return new RestoreResult(id, plan, true, 0, Duration.ofNanos(System.nanoTime() - t0));
            }
            target.restore(reader);
            return new RestoreResult(id, plan, false, reader.bytesRead(), Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /**
     * The full id this repository handle has just resolved (the CLI resolves "latest" or a prefix to show the
     * snapshot, then restores its full id) is not listed again: on S3 that listing is one more round trip
     * before the first data read. Anything else is resolved, and a missing snapshot reported, as always.
     */
    private String resolve(String idOrPrefix) {
        return repo.resolvedJustNow(idOrPrefix) ? idOrPrefix : repo.resolveSnapshotId(idOrPrefix);
    }
}
