package io.backupkit.ops;

import io.backupkit.KeyProviders;
import io.backupkit.Repository;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Random;

/**
 * One replica of an embedding service, run in its own JVM by {@link TwoReplicasIT}: a scheduler on a
 * shared repository with a real cron schedule; writes one line per event. It starts its scheduler only
 * when the test says go (both JVMs are up, however long a loaded machine took to start them) and stops
 * when the test says stop (it saw what it needed), so no wall-clock window decides the outcome.
 * Arguments: repository directory, key file, signal directory, output file, seed. Signal files:
 * {@code ready-<seed>} (written), {@code go} and {@code stop} (awaited).
 */
public final class ReplicaMain {
    private ReplicaMain() {
    }

    public static void main(String[] args) throws Exception {
        Path repoDir = Path.of(args[0]);
        Path key = Path.of(args[1]);
        Path signals = Path.of(args[2]);
        Path out = Path.of(args[3]);
        long seed = Long.parseLong(args[4]);
        try (Repository repo = Repository.builder().location(repoDir.toString()).keyProvider(KeyProviders.keyFile(key)).open();
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8), true)) {
            Files.writeString(signals.resolve("ready-" + seed), "");
            awaitFile(signals.resolve("go"));
            OpsFixtures.SteeredSource source = new OpsFixtures.SteeredSource(OpsClock.system());
            BackupScheduler s = BackupScheduler.builder().repository(repo).random(new Random(seed))
                    .listener(e -> {
                        synchronized (w) {
                            w.println(e.type() + " " + e.tick() + " " + (e.snapshotId() == null ? "-" : e.snapshotId())
                                    + " " + (e.error() == null ? "" : e.error().replace('\n', ' ')));
                        }
                    })
                    .job(ScheduledJob.backup("replicated", OpsFixtures.backups(repo, source))
                            .schedule(Schedule.cronWithSeconds("*/3 * * * * *", ZoneId.of("UTC")))
                            .jitter(Duration.ofMillis(1500)).lockTtl(Duration.ofSeconds(20)).build())
                    .build().start();
            awaitFile(signals.resolve("stop"));
            BackupScheduler.StopResult r = s.stop(Duration.ofSeconds(30));
            synchronized (w) {
                w.println("STOPPED " + r.clean());
            }
        }
    }

    /** Polls for a file the test writes; the test bounds the whole run, so no limit here. */
    private static void awaitFile(Path p) throws InterruptedException {
        while (!Files.exists(p)) {
            Thread.sleep(50);
        }
    }
}
