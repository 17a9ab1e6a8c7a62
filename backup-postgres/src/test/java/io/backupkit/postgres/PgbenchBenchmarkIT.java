package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Wall times of backupkit against pg_dump -Fc / pg_restore -j 2 on pgbench (acceptance 7). Opt-in:
 * {@code -Dbackupkit.bench.scale=100}.
 */
@EnabledIfSystemProperty(named = "backupkit.bench.scale", matches = "\\d+")
class PgbenchBenchmarkIT {
    @TempDir
    Path dir;

    @Test
    void pgbench_backupAndRestore_versusPgDump() throws Exception {
        int scale = Integer.getInteger("backupkit.bench.scale");
        int jobs = Integer.getInteger("backupkit.bench.jobs", 2);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("max_wal_size", "'4GB'").start();
             Repository repo = Repository.builder().location(dir.resolve("repo").toString()).password("bench".toCharArray()).create()) {
            pg.createDatabase("bench");
            pg.runTool("pgbench", "-i", "-s", Integer.toString(scale), "-q", "bench");
            pg.execute("bench", "VACUUM ANALYZE");
            String dbSize = pg.queryForString("postgres", "SELECT pg_size_pretty(pg_database_size('bench'))");

            // warm the JVM up first (JIT, class loading): an embedded library runs in a long-lived process
            pg.createDatabase("warmup");
            pg.runTool("pgbench", "-i", "-s", "1", "-q", "warmup");
            try (Repository warm = Repository.builder().location(dir.resolve("warm").toString()).password("w".toCharArray()).create()) {
                BackupManager.builder().repository(warm).source(PgTestSupport.source(pg, "warmup")).parallelism(jobs).build().backup();
                RestoreManager.builder().repository(warm).parallelism(2).target(PgTestSupport.target(pg, "warmup_copy").build()).build()
                        .restore();
            }
            pg.dropDatabase("warmup_copy");
            pg.dropDatabase("warmup");

            Path dump = pg.workDirectory().resolve("bench.dump");
            long t = System.nanoTime();
            pg.runTool("pg_dump", "-Fc", "-f", dump.toString(), "bench");
            long pgDumpMs = ms(t);
            long pgDumpBytes = Files.size(dump);
            pg.createDatabase("ref");
            t = System.nanoTime();
            pg.runTool("pg_restore", "-j", "2", "-d", "ref", dump.toString());
            long pgRestoreMs = ms(t);
            pg.dropDatabase("ref");
            Files.delete(dump);

            t = System.nanoTime();
            InMemoryBackup engineOnly = new InMemoryBackup(jobs);
            PgTestSupport.source(pg, "bench").backup(engineOnly);
            long engineOnlyMs = ms(t);
            engineOnly = null;

            t = System.nanoTime();
            BackupResult first = BackupManager.builder().repository(repo).source(PgTestSupport.source(pg, "bench")).parallelism(jobs)
                    .build().backup();
            long backupMs = ms(t);
            long repoBytes = size(dir.resolve("repo"));

            t = System.nanoTime();
            RestoreManager.builder().repository(repo).snapshot(first.snapshot().id()).parallelism(2)
                    .target(PgTestSupport.target(pg, "copy").build()).build().restore();
            long restoreMs = ms(t);
            assertEquals(pg.queryForString("bench", "SELECT sum(abalance)::text || count(*) FROM pgbench_accounts"),
                    pg.queryForString("copy", "SELECT sum(abalance)::text || count(*) FROM pgbench_accounts"));
            pg.dropDatabase("copy");

            pg.runTool("pgbench", "-t", "2000", "-c", "2", "bench");
            t = System.nanoTime();
            BackupResult second = BackupManager.builder().repository(repo).source(PgTestSupport.source(pg, "bench")).parallelism(jobs)
                    .build().backup();
            long secondMs = ms(t);

            System.out.printf("BENCH pgbench scale %d (%s): pg_dump -Fc %d ms, %d bytes; pg_restore -j 2 %d ms%n", scale, dbSize, pgDumpMs,
                    pgDumpBytes, pgRestoreMs);
            System.out.printf("BENCH engine only (streams into memory): %d ms%n", engineOnlyMs);
            System.out.printf("BENCH backupkit parallelism %d: backup %d ms, read %d bytes, stored %d bytes, repository %d bytes; "
                    + "restore (parallelism 2) %d ms%n", jobs, backupMs, first.bytesRead(), first.bytesStored(), repoBytes, restoreMs);
            System.out.printf("BENCH after pgbench -t 2000 -c 2: second backup %d ms, read %d bytes, stored %d new bytes%n", secondMs,
                    second.bytesRead(), second.bytesStored());
        }
    }

    private static long ms(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static long size(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
