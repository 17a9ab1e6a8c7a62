package io.backupkit.testkit;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ForgetManager;
import io.backupkit.ForgetResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneManager;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPolicy;
import io.backupkit.SnapshotSummary;
import io.backupkit.internal.repo.DefaultRepository;

import java.io.SequenceInputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The phases of the scale benchmark (bench/scale.sh) and of {@code ScaleIT}, one per JVM so each has its
 * own heap limit and peak:
 *
 * <pre>
 * java -cp … io.backupkit.testkit.ScaleMain generate &lt;repo&gt; &lt;keyFile&gt; &lt;snapshots&gt; &lt;append&gt; &lt;hot&gt; [blobBytes]
 * java -Xmx512m -cp … io.backupkit.testkit.ScaleMain open   &lt;repo&gt; &lt;keyFile&gt;
 * java -Xmx512m -cp … io.backupkit.testkit.ScaleMain backup &lt;repo&gt; &lt;keyFile&gt; &lt;bytes&gt;
 * java -Xmx512m -cp … io.backupkit.testkit.ScaleMain prune  &lt;repo&gt; &lt;keyFile&gt; &lt;forget N oldest&gt;
 * </pre>
 *
 * Each phase prints one line {@code phase=… seconds=… peakHeapMiB=… maxHeapMiB=… …}.
 */
public final class ScaleMain {
    private ScaleMain() {
    }

    /** Highest heap in use, sampled every 20 ms (the sum of per-pool peaks overstates it). */
    private static final java.util.concurrent.atomic.AtomicLong PEAK = new java.util.concurrent.atomic.AtomicLong();

    static {
        Thread t = new Thread(() -> {
            while (true) {
                PEAK.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "heap-sampler");
        t.setDaemon(true);
        t.start();
    }

    static long peakHeapMiB() {
        PEAK.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
        return PEAK.get() >> 20;
    }

    /** Heap in use after a full collection: what the phase holds on to at its end. */
    static long retainedHeapMiB() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
    }

    private static Repository open(Path repo, Path key) {
        return Repository.builder().storage(LocalStorage.of(repo)).keyProvider(KeyProviders.keyFile(key)).open();
    }

    public static void main(String[] args) {
        String phase = args[0];
        Path repo = Path.of(args[1]);
        Path key = Path.of(args[2]);
        long t0 = System.nanoTime();
        String figures;
        switch (phase) {
            case "generate" -> {
                KeyProviders.generateKeyFile(key);
                SyntheticRepository.Shape shape = new SyntheticRepository.Shape(Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                        Integer.parseInt(args[5]), args.length > 6 ? Integer.parseInt(args[6]) : 32);
                SyntheticRepository.generate(repo, key, shape, System.out);
                figures = "blobs=" + shape.blobs() + " snapshots=" + shape.snapshots();
            }
            case "open" -> {
                try (Repository r = open(repo, key)) {
                    List<SnapshotSummary> all = r.snapshots().summaries();
                    long listed = System.nanoTime();
                    long blobs = ((DefaultRepository) r).dedupIndex().blobCount();
                    figures = String.format("snapshots=%d listSeconds=%.2f blobs=%d bytesPerBlob=%.1f retainedHeapMiB=%d", all.size(),
                            (listed - t0) / 1e9, blobs, ((DefaultRepository) r).dedupIndex().bytesPerBlob(), retainedHeapMiB());
                }
            }
            case "backup" -> {
                long bytes = Long.parseLong(args[3]);
                try (Repository r = open(repo, key)) {
                    // half of it new, half of it a stream the last backup of this phase stored too
                    BackupResult b = BackupManager.builder().repository(r).parallelism(2)
                            .source(new GeneratedSource().stream("s", () -> new SequenceInputStream(RandomData.stream(7, bytes / 2),
                                    RandomData.stream(System.nanoTime(), bytes / 2)))).build().backup();
                    figures = String.format("bytesRead=%d bytesStored=%d", b.bytesRead(), b.bytesStored());
                }
            }
            case "prune" -> {
                int forget = Integer.parseInt(args[3]);
                try (Repository r = open(repo, key)) {
                    int total = r.snapshots().summaries().size();
                    ForgetResult f = ForgetManager.builder().repository(r)
                            .policy(RetentionPolicy.builder().keepLast(Math.max(1, total - forget)).groupBy().build()).build().forget();
                    PruneResult p = PruneManager.builder().repository(r).timeMargin(Duration.ZERO).build().prune();
                    figures = String.format("forgotten=%d packsDeleted=%d bytesFreed=%d packsRepacked=%d indexMerged=%d", f.removed().size(),
                            p.packsDeleted(), p.bytesFreed(), p.packsRepacked(), p.indexObjectsDeleted());
                }
            }
            default -> throw new IllegalArgumentException("unknown phase " + phase);
        }
        System.out.printf("phase=%s seconds=%.2f peakHeapMiB=%d maxHeapMiB=%d %s%n", phase, (System.nanoTime() - t0) / 1e9, peakHeapMiB(),
                Runtime.getRuntime().maxMemory() >> 20, figures);
    }
}
