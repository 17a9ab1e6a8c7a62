package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.ops.Schedule;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScheduledBackupServiceIT {
    @TempDir
    Path dir;

    @Test
    void backsUpOnSchedule_survivesAFailure_andStopsOnClose() throws Exception {
        try (EphemeralPostgres pg = EphemeralPostgres.builder().start();
             Repository repo = Repository.builder().location(dir.resolve("repo").toString()).unencrypted().create()) {
            pg.createDatabase("app");
            pg.execute("app", "CREATE TABLE events (id serial PRIMARY KEY, payload text); "
                    + "INSERT INTO events (payload) SELECT repeat('x', 100) FROM generate_series(1, 2000)");
            BackupManager backups = BackupManager.builder().repository(repo)
                    .source(PostgresSource.builder().url(pg.jdbcUrl("app")).user(pg.user()).password(pg.password().toCharArray()).build())
                    .tag("trigger", "schedule")
                    .build();

            ScheduledBackupService service = new ScheduledBackupService(repo, backups, Schedule.every(Duration.ofSeconds(1)));
            try (service) {
                service.start();
                waitUntil(() -> repo.snapshots().list().size() >= 2);
                assertTrue(service.lastSuccess().isPresent());
                assertTrue(service.lastSuccess().get().verification().passed());
                assertEquals(0, service.consecutiveFailures());
                assertTrue(service.health().healthy(), service.health().toString());

                pg.dropDatabase("app");
                int failuresBefore = service.consecutiveFailures();
                waitUntil(() -> service.consecutiveFailures() > failuresBefore);
                assertTrue(service.lastError().isPresent());
                assertFalse(service.health().healthy(), "the service's health check sees the failure");
                int snapshots = repo.snapshots().list().size();

                pg.createDatabase("app");
                waitUntil(() -> service.consecutiveFailures() == 0);
                assertTrue(repo.snapshots().list().size() > snapshots, "the schedule went on after failures");
            }
            int runsStarted = service.runs();
            Thread.sleep(2500);
            assertEquals(runsStarted, service.runs(), "no runs start after close()");
            assertTrue(repo.snapshots().list().stream().allMatch(s -> "schedule".equals(s.tags().get("trigger"))));
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
