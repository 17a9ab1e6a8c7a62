package io.backupkit.bench;

import io.backupkit.BackupManager;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.PostgresTarget;
import io.backupkit.postgres.testing.EphemeralPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * What {@code PostgresDatabaseExtension} costs a test suite: the once-per-class seeding (restore of a
 * snapshot into the template database) and, per test, the fresh copy it hands out ({@code CREATE
 * DATABASE … TEMPLATE … STRATEGY FILE_COPY}, exactly the extension's call) and the drop after the
 * test; against what a suite would do without it, {@code createdb} + {@code pg_restore} of a
 * {@code pg_dump -Fc} of the same database per test. On an {@link EphemeralPostgres} (fsync off, as
 * the extension's default server). Prints medians of {@code --tests} copies.
 *
 * <pre>java -cp bench/jmh/target/benchmarks.jar io.backupkit.bench.FixtureBench [--scale 1] [--tests 20]</pre>
 * Issue 12 target 7: a fresh copy of a seeded ~15 MB database in ≤ 150 ms, ≥ 20x faster than pg_restore.
 */
public final class FixtureBench {
    private static final String TEMPLATE = "backupkit_seed_template";

    private FixtureBench() {
    }

    public static void main(String[] args) throws Exception {
        int scale = 1;
        int tests = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--scale" -> scale = Integer.parseInt(args[++i]);
                case "--tests" -> tests = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--scale N, --tests N)");
            }
        }
        Path dir = Files.createTempDirectory("backupkit-fixture-bench-");
        try (EphemeralPostgres pg = EphemeralPostgres.start()) {
            pg.execute("postgres", "CREATE DATABASE seed");
            pg.runTool("pgbench", "-i", "-q", "-s", Integer.toString(scale), "seed");
            pg.execute("seed", "VACUUM ANALYZE");
            String size = pg.queryForString("postgres", "SELECT pg_size_pretty(pg_database_size('seed'))");
            Path key = dir.resolve("key");
            Files.write(key, new byte[32]);
            Path bin = pg.binDirectory().orElseThrow();
            try (Repository repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo"))).keyFile(key).create()) {
                BackupManager.builder().repository(repo).source(PostgresSource.builder().url(pg.jdbcUrl("seed")).user(pg.user())
                        .password(pg.password().toCharArray()).toolDirectory(bin).build()).build().backup();
                long s0 = System.nanoTime();
                // what the extension does once per test class
                RestoreManager.builder().repository(repo).snapshot("latest").target(PostgresTarget.builder().url(pg.jdbcUrl("postgres"))
                        .user(pg.user()).password(pg.password().toCharArray()).database(TEMPLATE).toolDirectory(bin).build())
                        .build().restore();
                System.out.printf("seed database: pgbench scale %d, %s; seeding the template (restore, once per class): %.0f ms%n",
                        scale, size, (System.nanoTime() - s0) / 1e6);
            }
            // what a test waits for in beforeEach (take) and afterEach (release), with instant tests and with
            // tests that spend 100 ms on their database (the copy for the next one is made meanwhile)
            double[] instant = handOut(pg, tests, 0);
            double[] hundred = handOut(pg, tests, 100);
            List<Double> create = new ArrayList<>();
            for (int i = 0; i < tests; i++) {
                String name = "copy_" + i;
                long t0 = System.nanoTime();
                pg.createDatabaseFromTemplate(name, TEMPLATE);
                create.add((System.nanoTime() - t0) / 1e6);
                pg.dropDatabase(name);
            }
            // where the time goes: a new session per call vs the statement itself, per strategy
            try (java.sql.Connection c = pg.connect("postgres"); java.sql.Statement st = c.createStatement()) {
                for (String strategy : List.of("FILE_COPY", "WAL_LOG")) {
                    List<Double> t = new ArrayList<>();
                    for (int i = 0; i < Math.max(5, tests / 2); i++) {
                        long t0 = System.nanoTime();
                        st.execute("CREATE DATABASE probe TEMPLATE " + TEMPLATE + " STRATEGY " + strategy);
                        t.add((System.nanoTime() - t0) / 1e6);
                        st.execute("DROP DATABASE probe");
                    }
                    System.out.printf("  CREATE DATABASE … STRATEGY %s on an open session: median %.1f ms%n", strategy, median(t));
                }
                List<Double> t = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    long t0 = System.nanoTime();
                    pg.execute("postgres", "SELECT 1");
                    t.add((System.nanoTime() - t0) / 1e6);
                }
                System.out.printf("  a new session for one statement (what PostgresServer.execute does): median %.1f ms%n", median(t));
            }
            Path dump = pg.workDirectory().resolve("seed.dump"); // written by pg_dump as the server's OS user
            pg.runTool("pg_dump", "-Fc", "-d", "seed", "-f", dump.toString());
            List<Double> restore = new ArrayList<>();
            int restores = Math.max(3, Math.min(5, tests));
            for (int i = 0; i < restores; i++) {
                String name = "restored_" + i;
                long t0 = System.nanoTime();
                pg.createDatabase(name);
                pg.runTool("pg_restore", "-d", name, dump.toString());
                restore.add((System.nanoTime() - t0) / 1e6);
                pg.dropDatabase(name);
            }
            double c = median(create);
            double r = median(restore);
            System.out.printf("one copy (CREATE DATABASE … TEMPLATE … STRATEGY FILE_COPY, the extension's statement): median %.1f ms%n", c);
            System.out.printf("hand-out to a test (PostgresDatabaseExtension.beforeEach = TestDatabasePool.take), instant tests: "
                    + "median %.1f ms; drop after the test: median %.1f ms%n", instant[0], instant[1]);
            System.out.printf("hand-out to a test that works 100 ms on its database: median %.1f ms; drop: median %.1f ms%n",
                    hundred[0], hundred[1]);
            System.out.printf("createdb + pg_restore of pg_dump -Fc: median %.1f ms over %d%n", r, restore.size());
            System.out.printf("RESULT copyMs=%.1f handOutMs=%.1f handOutInstantMs=%.1f dropMs=%.1f pgRestoreMs=%.1f speedupCopy=%.1f speedupHandOut=%.1f%n",
                    c, hundred[0], instant[0], hundred[1], r, r / c, r / Math.max(hundred[0], 0.1));
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** Median take() and release() times over {@code tests} tests that each work {@code workMs} on their database. */
    private static double[] handOut(EphemeralPostgres pg, int tests, int workMs) throws InterruptedException {
        List<Double> take = new ArrayList<>();
        List<Double> release = new ArrayList<>();
        try (io.backupkit.postgres.testing.TestDatabasePool pool = new io.backupkit.postgres.testing.TestDatabasePool(pg, TEMPLATE)) {
            for (int i = 0; i < tests + 2; i++) {
                long t0 = System.nanoTime();
                io.backupkit.postgres.testing.TestDatabase db = pool.take();
                long t1 = System.nanoTime();
                long until = t1 + workMs * 1_000_000L;
                db.queryForString("SELECT count(*) FROM pgbench_accounts");
                long left = until - System.nanoTime();
                if (left > 0) {
                    Thread.sleep(left / 1_000_000L);
                }
                long t2 = System.nanoTime();
                pool.release(db);
                long t3 = System.nanoTime();
                if (i >= 2) {
                    take.add((t1 - t0) / 1e6);
                    release.add((t3 - t2) / 1e6);
                }
            }
        }
        return new double[] {median(take), median(release)};
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }
}
