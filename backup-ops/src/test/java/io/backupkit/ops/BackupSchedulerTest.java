package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.ops.OpsFixtures.Events;
import io.backupkit.ops.OpsFixtures.SteeredSource;
import io.backupkit.ops.internal.OpsRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.backupkit.ops.OpsFixtures.backups;
import static io.backupkit.ops.OpsFixtures.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scheduler on a controllable clock, against a real repository on disk. */
class BackupSchedulerTest {
    @TempDir
    Path dir;

    static Instant at(String isoWithOffset) {
        return ZonedDateTime.parse(isoWithOffset).toInstant();
    }

    private BackupScheduler scheduler(Repository repo, ManualClock clock, Events events, ScheduledJob... jobs) {
        BackupScheduler.Builder b = BackupScheduler.builder().repository(repo).clock(clock).listener(events)
                .healthCheckEvery(Duration.ofHours(1));
        for (ScheduledJob j : jobs) {
            b.job(j);
        }
        return b.build();
    }

    private static List<Instant> ticks(List<JobEvent> events, String job) {
        return events.stream().filter(e -> e.job().equals(job)).map(JobEvent::tick).toList();
    }

    @Test
    void cronAcrossDaylightSavingChangesInTwoZonesRunsOncePerLocalDay() throws Exception {
        ManualClock clock = new ManualClock(at("2026-03-06T12:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock);
            BackupScheduler s = scheduler(repo, clock, events,
                    ScheduledJob.backup("berlin", backups(repo, source)).schedule(Schedule.cron("30 2 * * *", ZoneId.of("Europe/Berlin"))).build(),
                    ScheduledJob.backup("new-york", backups(repo, source)).schedule(Schedule.cron("30 1,2 * * *", ZoneId.of("America/New_York"))).build());
            s.start();
            // spring: New York jumps on 2026-03-08, Berlin on 2026-03-29; 02:30 does not exist on those days
            runUntil(clock, s, at("2026-03-09T12:00Z"));
            runUntil(clock, s, at("2026-03-27T12:00Z"));
            List<JobEvent> succeededBefore = events.of(JobEvent.Type.SUCCEEDED);
            assertEquals(List.of(at("2026-03-07T01:30-05:00"), at("2026-03-07T02:30-05:00"), at("2026-03-08T01:30-05:00"),
                    at("2026-03-08T03:00-04:00"), at("2026-03-09T01:30-04:00"), at("2026-03-09T02:30-04:00")),
                    ticks(succeededBefore, "new-york").subList(0, 6));
            events.all.clear();
            runUntil(clock, s, at("2026-03-31T00:00Z"));
            assertEquals(List.of(at("2026-03-28T02:30+01:00"), at("2026-03-29T03:00+02:00"), at("2026-03-30T02:30+02:00")),
                    ticks(events.of(JobEvent.Type.SUCCEEDED), "berlin"));
            // autumn: Berlin falls back on 2026-10-25, New York on 2026-11-01; 01:30 / 02:30 happen twice there
            clock.advanceTo(at("2026-10-23T12:00Z")); // a long quiet stretch: missed ticks are run once (RUN_ONCE)
            runUntil(clock, s, at("2026-10-23T13:00Z"));
            events.all.clear();
            runUntil(clock, s, at("2026-11-03T00:00Z"));
            List<Instant> berlin = ticks(events.of(JobEvent.Type.SUCCEEDED), "berlin");
            List<Instant> ny = ticks(events.of(JobEvent.Type.SUCCEEDED), "new-york");
            assertEquals(10, berlin.size(), "one a day, 24 Oct to 2 Nov: " + berlin);
            assertEquals(20, ny.size(), "two a day, 24 Oct to 2 Nov: " + ny);
            assertTrue(berlin.contains(at("2026-10-25T02:30+02:00")) && !berlin.contains(at("2026-10-25T02:30+01:00")), berlin.toString());
            assertTrue(ny.contains(at("2026-11-01T01:30-04:00")) && !ny.contains(at("2026-11-01T01:30-05:00")), ny.toString());
            assertTrue(ny.contains(at("2026-11-01T02:30-05:00")), ny.toString());
            assertTrue(events.of(JobEvent.Type.FAILED).isEmpty(), events.all.toString());
            s.stop(Duration.ofSeconds(30));
            // every run left a snapshot tagged with its job and tick
            List<Snapshot> snaps = repo.snapshots().list();
            assertEquals(snaps.size(), snaps.stream().map(x -> x.tags().get("job") + x.tags().get("tick")).distinct().count());
        }
    }

    @Test
    void runsNeverOverlapAndTicksThatPassDuringARunAreRunOnceAfterIt() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T10:00:30Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "block");
            BackupScheduler s = scheduler(repo, clock, events,
                    ScheduledJob.backup("minutely", backups(repo, source)).schedule(Schedule.cron("* * * * *", ZoneId.of("UTC"))).build());
            s.start();
            clock.awaitSleepers(2, Duration.ofSeconds(30));
            clock.advanceTo(at("2026-05-01T10:01:00Z"));
            assertTrue(source.awaitBlocked());
            // five more ticks pass while the first backup is still running (only the monitor sleeps now)
            clock.advanceTo(at("2026-05-01T10:06:10Z"));
            assertEquals(1, source.calls.get());
            source.release();
            clock.awaitSleepers(2, Duration.ofSeconds(60));
            assertEquals(2, source.calls.get(), "one catch-up run for the missed ticks, not five");
            assertEquals(1, source.maxConcurrent.get(), "runs never overlap");
            assertEquals(List.of(at("2026-05-01T10:01:00Z"), at("2026-05-01T10:06:00Z")), ticks(events.of(JobEvent.Type.SUCCEEDED), "minutely"));
            assertTrue(events.of(JobEvent.Type.SKIPPED).stream().anyMatch(e -> e.error().contains("4 older missed tick(s) skipped")),
                    events.all.toString());
            runUntil(clock, s, at("2026-05-01T10:08:30Z"));
            assertEquals(4, source.calls.get());
            s.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void withTheSkipPolicyTicksMissedDuringARunAreNotRun() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T10:00:30Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "block");
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("minutely", backups(repo, source))
                    .schedule(Schedule.cron("* * * * *", ZoneId.of("UTC"))).missedRuns(MissedRunPolicy.SKIP).build());
            s.start();
            clock.awaitSleepers(2, Duration.ofSeconds(30));
            clock.advanceTo(at("2026-05-01T10:01:00Z"));
            assertTrue(source.awaitBlocked());
            clock.advanceTo(at("2026-05-01T10:04:10Z"));
            source.release();
            clock.awaitSleepers(2, Duration.ofSeconds(60));
            assertEquals(1, source.calls.get());
            assertEquals(at("2026-05-01T10:05:00Z"), clock.nextWakeup().orElseThrow(), "waits for the next tick");
            runUntil(clock, s, at("2026-05-01T10:05:30Z"));
            assertEquals(2, source.calls.get());
            assertEquals(at("2026-05-01T10:05:00Z"), source.callTimes.get(1));
            s.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void aFailedBackupIsRetriedWithExponentialBackoffWithinItsTick() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "fail", "fail", "fail");
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC")))
                    .retry(RetryPolicy.exponential(3, Duration.ofSeconds(10), Duration.ofSeconds(25))).build());
            s.start();
            runUntil(clock, s, at("2026-05-01T10:30:00Z"));
            Instant t = at("2026-05-01T10:00:00Z");
            assertEquals(List.of(t, t.plusSeconds(10), t.plusSeconds(30), t.plusSeconds(55)), source.callTimes,
                    "delays 10 s, 20 s, then capped at 25 s");
            assertEquals(List.of(1, 2, 3, 4), events.of(JobEvent.Type.STARTED).stream().map(JobEvent::attempt).toList());
            assertEquals(1, events.of(JobEvent.Type.SUCCEEDED).size());
            assertEquals(4, events.of(JobEvent.Type.SUCCEEDED).get(0).run().attempts());
            assertTrue(events.of(JobEvent.Type.FAILED).isEmpty(), "a run that succeeds on retry is not a failure");
            assertTrue(s.health().healthy(), s.health().toString());
            s.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void whenEveryAttemptFailsOneFailedEventIsSentAndHealthSaysWhy() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "fail", "fail");
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC")))
                    .retry(RetryPolicy.exponential(1, Duration.ofSeconds(10), Duration.ofSeconds(10))).build());
            s.start();
            runUntil(clock, s, at("2026-05-01T10:30:00Z"));
            assertEquals(1, events.of(JobEvent.Type.FAILED).size());
            JobEvent failed = events.of(JobEvent.Type.FAILED).get(0);
            assertEquals(2, failed.attempt());
            assertTrue(failed.error().contains("steered failure #2"), failed.error());
            Health h = s.health();
            assertFalse(h.healthy());
            assertTrue(h.reasons().get(0).contains("job hourly: the last run (tick 2026-05-01T10:00:00Z) failed: steered failure #2"),
                    h.reasons().toString());
            assertTrue(repo.snapshots().list().isEmpty());
            runUntil(clock, s, at("2026-05-01T11:30:00Z"));
            assertTrue(s.health().healthy(), "the next success heals it: " + s.health());
            s.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void ticksMissedWhileTheProcessWasDownAreRunOnceOnStartOrSkipped() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock);
            ScheduledJob.Builder job = ScheduledJob.backup("hourly", backups(repo, source)).schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC")));
            BackupScheduler first = scheduler(repo, clock, new Events(), job.build());
            first.start();
            runUntil(clock, first, at("2026-05-01T10:30:00Z"));
            first.stop(Duration.ofSeconds(30));
            assertEquals(1, source.calls.get());

            clock.advanceTo(at("2026-05-01T15:20:00Z")); // down for five ticks
            Events skipEvents = new Events();
            BackupScheduler skipping = scheduler(repo, clock, skipEvents, job.missedRuns(MissedRunPolicy.SKIP).build());
            skipping.start();
            clock.awaitSleepers(2, Duration.ofSeconds(30));
            assertEquals(1, source.calls.get(), "SKIP: nothing runs at start");
            assertTrue(skipEvents.of(JobEvent.Type.SKIPPED).get(0).error().contains("5 missed tick(s) skipped"));
            skipping.stop(Duration.ofSeconds(30));

            clock.advanceTo(at("2026-05-01T18:20:00Z"));
            Events runEvents = new Events();
            BackupScheduler catchingUp = scheduler(repo, clock, runEvents, job.missedRuns(MissedRunPolicy.RUN_ONCE).build());
            catchingUp.start();
            clock.awaitSleepers(2, Duration.ofSeconds(60));
            assertEquals(2, source.calls.get(), "RUN_ONCE: one run at start for the newest missed tick");
            assertEquals(at("2026-05-01T18:00:00Z"), runEvents.of(JobEvent.Type.SUCCEEDED).get(0).tick());
            assertEquals(at("2026-05-01T18:20:00Z"), source.callTimes.get(1));
            catchingUp.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void stopLetsARunningBackupFinishWithinTheGrace() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:59Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "block");
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).build());
            s.start();
            clock.awaitSleepers(2, Duration.ofSeconds(30));
            clock.advanceTo(at("2026-05-01T10:00:00Z"));
            assertTrue(source.awaitBlocked());
            CompletableFuture<BackupScheduler.StopResult> stop = CompletableFuture.supplyAsync(() -> s.stop(Duration.ofMinutes(2)));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!s.isStopping() && System.nanoTime() < deadline) {
                Thread.sleep(5); // until stop() has begun: the run then finishes inside its grace
            }
            assertTrue(s.isStopping());
            source.release();
            BackupScheduler.StopResult r = stop.get(2, TimeUnit.MINUTES);
            assertEquals(List.of("hourly"), r.finished(), r.toString());
            assertTrue(r.clean());
            assertEquals(1, repo.snapshots().list().size());
            assertEquals(1, events.of(JobEvent.Type.SUCCEEDED).size());
        }
    }

    @Test
    void stopAbortsARunThatOutlastsTheGraceAndNoSnapshotAppears() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:59Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "block");
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).retry(RetryPolicy.exponential(3, Duration.ZERO, Duration.ZERO)).build());
            s.start();
            clock.awaitSleepers(2, Duration.ofSeconds(30));
            clock.advanceTo(at("2026-05-01T10:00:00Z"));
            assertTrue(source.awaitBlocked());
            BackupScheduler.StopResult r = s.stop(Duration.ofMillis(300));
            assertEquals(List.of("hourly"), r.aborted(), r.toString());
            assertEquals(1, source.calls.get(), "an aborted run is not retried");
            assertTrue(repo.snapshots().list().isEmpty(), "an aborted backup leaves no snapshot");
            JobEvent failed = events.of(JobEvent.Type.FAILED).get(0);
            assertTrue(failed.error().startsWith("aborted: the scheduler is stopping"), failed.error());
            List<RunRecord> runs = new OpsRecords(repo).runs("hourly", null);
            assertEquals(1, runs.size());
            assertEquals(RunRecord.FAILED, runs.get(0).status());
        }
    }

    @Test
    void aJobWithoutSuccessForLongerThanAllowedTurnsStaleOnce() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "ok", "fail", "fail", "fail", "fail");
            BackupScheduler s = BackupScheduler.builder().repository(repo).clock(clock).listener(events).healthCheckEvery(Duration.ofMinutes(10))
                    .job(ScheduledJob.backup("hourly", backups(repo, source)).schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC")))
                            .staleAfter(Duration.ofMinutes(150)).rpoTarget(Duration.ofHours(2)).build()).build();
            s.start();
            runUntil(clock, s, at("2026-05-01T12:05:00Z"));
            assertTrue(events.of(JobEvent.Type.STALE).isEmpty());
            runUntil(clock, s, at("2026-05-01T14:30:00Z"));
            assertEquals(1, events.of(JobEvent.Type.STALE).size(), "sent once, not at every check");
            Health h = s.health();
            assertTrue(h.reasons().stream().anyMatch(r -> r.contains("stale: the last successful run ended")), h.reasons().toString());
            assertTrue(h.reasons().stream().anyMatch(r -> r.contains("RPO 4 h 30 min exceeds the target of 2 h 0 min")), h.reasons().toString());
            assertEquals(4 * 3600 + 1800, h.jobs().get(0).rpoSeconds());
            s.stop(Duration.ofSeconds(30));
        }
    }

    @Test
    void twoSchedulersOnOneRepositoryRunEachTickExactlyOnce() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:30Z"));
        Events events = new Events();
        try (Repository a = OpsFixtures.repository(dir); Repository b = OpsFixtures.repository(dir)) {
            SteeredSource sa = new SteeredSource(clock);
            SteeredSource sb = new SteeredSource(clock);
            Schedule every = Schedule.cron("* * * * *", ZoneId.of("UTC"));
            BackupScheduler ra = scheduler(a, clock, events, ScheduledJob.backup("shared", backups(a, sa)).schedule(every).build());
            BackupScheduler rb = scheduler(b, clock, events, ScheduledJob.backup("shared", backups(b, sb)).schedule(every).build());
            ra.start();
            rb.start();
            runUntil(clock, 4, at("2026-05-01T10:20:30Z"));
            ra.stop(Duration.ofSeconds(30));
            rb.stop(Duration.ofSeconds(30));
            assertEquals(21, sa.calls.get() + sb.calls.get(), "21 ticks, 21 backups");
            List<Snapshot> snaps = a.snapshots().list();
            assertEquals(21, snaps.size());
            assertEquals(21, snaps.stream().map(x -> x.tags().get("tick")).distinct().count());
            assertEquals(21, events.of(JobEvent.Type.SKIPPED).size(), "the other replica skipped every tick");
        }
    }

    /**
     * Someone who can write the storage but has no key plants objects under claim names: one for the
     * next tick, one for a tick far in the future. Neither may silently stop the job: the planted
     * future claim is not believed, and the planted claim of a due tick makes that tick a failed run
     * (an event and an unhealthy health), never a quiet "already run by another replica".
     */
    @Test
    void claimsPlantedByAStorageWriterAreNotBelievedAndFailLoudly() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            byte[] junk = "not a sealed record".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            // a claim far in the future would park a job that believes it until the year 2286
            repo.storage().putIfAbsent("records/ops/hourly/claims/" + String.format("%012d", 9_999_999_999L),
                    io.backupkit.spi.Payload.of(junk));
            repo.storage().putIfAbsent("records/ops/hourly/claims/" + String.format("%012d", at("2026-05-01T11:00:00Z").getEpochSecond()),
                    io.backupkit.spi.Payload.of(junk));
            SteeredSource source = new SteeredSource(clock);
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).build());
            s.start();
            runUntil(clock, s, at("2026-05-01T10:30:00Z"));
            assertEquals(1, source.calls.get(), "the 10:00 tick runs although a claim for a tick in 2286 was planted: "
                    + events.all);
            runUntil(clock, s, at("2026-05-01T11:30:00Z"));
            assertEquals(1, source.calls.get());
            assertTrue(events.of(JobEvent.Type.SKIPPED).isEmpty(), "a planted claim is no reason to skip quietly: " + events.all);
            List<JobEvent> failed = events.of(JobEvent.Type.FAILED);
            assertEquals(1, failed.size(), events.all.toString());
            assertEquals(at("2026-05-01T11:00:00Z"), failed.get(0).tick());
            assertTrue(failed.get(0).error().contains("fails authentication"), failed.get(0).error());
            assertFalse(s.health().healthy(), s.health().reasons().toString());
            runUntil(clock, s, at("2026-05-01T12:30:00Z"));
            assertEquals(2, source.calls.get(), "the next tick runs again");
            s.stop(Duration.ofSeconds(30));
        }
    }

    /** A lease record planted without the key is not believed either: the tick fails loudly instead of being skipped. */
    @Test
    void aLeaseRecordPlantedByAStorageWriterFailsTheTickLoudly() throws Exception {
        ManualClock clock = new ManualClock(at("2026-05-01T09:59:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            repo.storage().putIfAbsent("records/ops/hourly/lease/" + "9".repeat(20),
                    io.backupkit.spi.Payload.of("not a sealed record".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            SteeredSource source = new SteeredSource(clock);
            BackupScheduler s = scheduler(repo, clock, events, ScheduledJob.backup("hourly", backups(repo, source))
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).build());
            s.start();
            runUntil(clock, s, at("2026-05-01T10:30:00Z"));
            assertEquals(0, source.calls.get());
            assertTrue(events.of(JobEvent.Type.SKIPPED).isEmpty(), events.all.toString());
            List<JobEvent> failed = events.of(JobEvent.Type.FAILED);
            assertEquals(1, failed.size(), events.all.toString());
            assertTrue(failed.get(0).error().contains("could not take the job lock") && failed.get(0).error().contains("fails authentication"),
                    failed.get(0).error());
            assertFalse(s.health().healthy());
            s.stop(Duration.ofSeconds(30));
        }
    }
}
