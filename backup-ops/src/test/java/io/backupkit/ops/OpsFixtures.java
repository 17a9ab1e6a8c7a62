package io.backupkit.ops;

import io.backupkit.BackupManager;
import io.backupkit.EngineException;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Real repositories on a temporary directory, and a backup source a test can steer. */
final class OpsFixtures {
    private OpsFixtures() {
    }

    /** An encrypted repository opened with a key file (cheap to open, unlike a password). */
    static Repository repository(Path dir) {
        Path key = dir.resolve("repo.key");
        try {
            if (!Files.exists(key)) {
                KeyProviders.generateKeyFile(key);
            }
        } catch (RuntimeException e) {
            throw e;
        }
        return Repository.builder().location(dir.resolve("repo").toString()).keyFile(key).openOrCreate();
    }

    static BackupManager backups(Repository repo, BackupSource source) {
        return BackupManager.builder().repository(repo).source(source).parallelism(1).build();
    }

    /**
     * A source that writes one small stream per call and follows a script: per call "ok", "fail", or
     * "block" (waits for {@link #release()}, interruptibly). Calls beyond the script are "ok".
     */
    static final class SteeredSource implements BackupSource {
        final Queue<String> script = new ConcurrentLinkedQueue<>();
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger concurrent = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();
        final List<Instant> callTimes = Collections.synchronizedList(new ArrayList<>());
        volatile CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch blocked = new CountDownLatch(1);
        private final OpsClock clock;

        SteeredSource(OpsClock clock, String... steps) {
            this.clock = clock;
            script.addAll(List.of(steps));
        }

        void release() {
            gate.countDown();
        }

        boolean awaitBlocked() throws InterruptedException {
            return blocked.await(60, TimeUnit.SECONDS);
        }

        @Override
        public String engine() {
            return "steered";
        }

        @Override
        public String describe() {
            return "steered test source";
        }

        @Override
        public void backup(BackupContext context) {
            int n = calls.incrementAndGet();
            callTimes.add(clock.instant());
            int c = concurrent.incrementAndGet();
            maxConcurrent.accumulateAndGet(c, Math::max);
            try {
                String step = script.poll();
                if ("fail".equals(step)) {
                    throw new EngineException("steered failure #" + n);
                }
                if ("block".equals(step)) {
                    blocked.countDown();
                    try {
                        if (!gate.await(5, TimeUnit.MINUTES)) {
                            throw new EngineException("never released");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new EngineException("backup interrupted", e);
                    }
                }
                try (OutputStream out = context.newStream("data")) {
                    out.write(("call " + n + " " + "x".repeat(1000)).getBytes(StandardCharsets.UTF_8));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            } finally {
                concurrent.decrementAndGet();
            }
        }
    }

    /** Collects events. */
    static final class Events implements JobListener {
        final List<JobEvent> all = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void onEvent(JobEvent event) {
            all.add(event);
        }

        List<JobEvent> of(JobEvent.Type type) {
            synchronized (all) {
                return all.stream().filter(e -> e.type() == type).toList();
            }
        }
    }

    /** Advances the clock from wake-up to wake-up until {@code end}, letting the scheduler work at each. */
    static void runUntil(ManualClock clock, BackupScheduler scheduler, Instant end) throws InterruptedException {
        runUntil(clock, scheduler.threadCount(), end);
    }

    static void runUntil(ManualClock clock, int threads, Instant end) throws InterruptedException {
        while (true) {
            clock.awaitSleepers(threads, Duration.ofSeconds(60));
            Instant next = clock.nextWakeup().orElseThrow();
            if (next.isAfter(end)) {
                clock.advanceTo(end);
                clock.awaitSleepers(threads, Duration.ofSeconds(60));
                return;
            }
            clock.advanceTo(next);
        }
    }
}
