package io.backupkit.testkit;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;

/**
 * Backs up a generated dump-like stream of a given size into a new encrypted repository and prints
 * the figures. Run in a child JVM by tests that bound the heap, and by the pipeline benchmark:
 * {@code java -Xmx256m -cp … io.backupkit.testkit.GeneratedBackupMain <repoDir> <bytes> [parallelism]}.
 */
public final class GeneratedBackupMain {
    private GeneratedBackupMain() {
    }

    public static void main(String[] args) {
        Path repoDir = Path.of(args[0]);
        long bytes = Long.parseLong(args[1]);
        int parallelism = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir))
                .keyProvider(KeyProviders.password("bench".toCharArray(), 19 * 1024, 2, 1)).create()) {
            BackupResult r = BackupManager.builder().repository(repo).parallelism(parallelism)
                    .source(new GeneratedSource().stream("dump", () -> DumpLikeData.stream(1, bytes)))
                    .build().backup();
            long peakHeap = 0;
            for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
                if (pool.getType() == MemoryType.HEAP) {
                    peakHeap += pool.getPeakUsage().getUsed();
                }
            }
            double secs = r.duration().toNanos() / 1e9;
            System.out.printf("bytesRead=%d bytesStored=%d seconds=%.2f MBps=%.1f peakHeapMiB=%d maxHeapMiB=%d%n",
                    r.bytesRead(), r.bytesStored(), secs, r.bytesRead() / 1e6 / secs, peakHeap >> 20,
                    Runtime.getRuntime().maxMemory() >> 20);
        }
    }
}
