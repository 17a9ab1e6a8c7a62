import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.postgres.PostgresSource;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A logical backup as a service embedding backupkit runs it: in a JVM that has run backups before, with
 * the repository already open. Each round creates a fresh repository (its key derived then, outside the
 * timing; no deduplication against the round before) and times only {@code BackupManager.backup()}. Prints
 * per round the wall time and the CPU of this JVM (the psql/pg_dump children and the server not included).
 * The PostgreSQL tools are found on PATH (put the server's bin directory first, as bench/run.sh's PGBIN).
 * docs/performance.md ("Evening: the fixed cost is the gap") compares the warm rounds with pg_dump -Fp.
 *
 * <pre>
 * java -Xmx128m -XX:+UseSerialGC -cp examples/target/backupkit.jar bench/embedded/WarmBackup.java \
 *     postgresql://postgres@127.0.0.1:5432/db ROUNDS JOBS
 * </pre>
 */
public class WarmBackup {
    public static void main(String[] args) throws Exception {
        String db = args[0];
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int jobs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        for (int r = 1; r <= rounds; r++) {
            Path dir = Files.createTempDirectory("warm-backup");
            try (Repository repo = Repository.builder().location(dir.resolve("repo").toString())
                    .password("warm-backup".toCharArray()).openOrCreate()) {
                long cpu = os.getProcessCpuTime();
                long t = System.nanoTime();
                BackupResult result = BackupManager.builder().repository(repo).parallelism(jobs)
                        .source(PostgresSource.builder().url(db).jobs(jobs).build())
                        .build().backup();
                System.out.printf("round %d: %.2f s wall, %.2f CPU-s of this JVM, %d bytes read, %d stored%n", r,
                        (System.nanoTime() - t) / 1e9, (os.getProcessCpuTime() - cpu) / 1e9, result.bytesRead(), result.bytesStored());
            } finally {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }
}
