package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScheduledBackupServiceIT {
    @TempDir
    Path dir;

    @Test
    void backsUpOnSchedule_survivesAFailure_andLeavesTheSchedulerRunning() throws Exception {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        try (EphemeralPostgres pg = EphemeralPostgres.builder().start();
             Repository repo = Repository.builder().location(dir.resolve("repo").toString()).unencrypted().create()) {
            pg.createDatabase("app");
            pg.execute("app", "CREATE TABLE events (id serial PRIMARY KEY, payload text); "
                    + "INSERT INTO events (payload) SELECT repeat('x', 100) FROM generate_series(1, 2000)");
            BackupManager backups = BackupManager.builder().repository(repo)
                    .source(PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(pg.password().toCharArray()).build())
                    .tag("trigger", "schedule")
                    .build();

            ScheduledBackupService service = new ScheduledBackupService(repo, backups, Duration.ofMillis(200), scheduler);
            try (service) {
                service.start();
                waitUntil(() -> repo.snapshots().list().size() >= 2);
                assertTrue(service.lastSuccess().isPresent());
                assertTrue(service.lastSuccess().get().verification().passed());
                assertEquals(0, service.consecutiveFailures());

                pg.dropDatabase("app");
                int failuresBefore = service.consecutiveFailures();
                waitUntil(() -> service.consecutiveFailures() > failuresBefore);
                assertTrue(service.lastError().isPresent());
                int snapshots = repo.snapshots().list().size();

                pg.createDatabase("app");
                waitUntil(() -> service.consecutiveFailures() == 0);
                assertTrue(repo.snapshots().list().size() > snapshots, "the schedule went on after failures");
            }
            int runsStarted = service.runs();
            assertFalse(scheduler.isShutdown(), "the caller's scheduler is left alone");
            Thread.sleep(1000);
            assertEquals(runsStarted, service.runs(), "no runs start after close()");
            assertTrue(repo.snapshots().list().stream().allMatch(s -> "schedule".equals(s.tags().get("trigger"))));
        } finally {
            scheduler.shutdownNow();
            scheduler.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 2 minutes");
            }
            Thread.sleep(50);
        }
    }
}
