package io.backupkit.ops;

import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two schedulers in two JVMs on one repository, with a cron tick every 3 s and random jitter (so one
 * replica often wakes after the other already finished and released the lock): each tick produces
 * exactly one backup. The replicas start together (both JVMs up, then go) and run until the test has
 * seen enough contested ticks, polled from their output, so a loaded machine only makes it take longer.
 */
class TwoReplicasIT {
    @TempDir
    Path dir;

    @Test
    void eachCronTickProducesExactlyOneBackupAcrossTwoJvms() throws Exception {
        Path key = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().location(repoDir.toString()).keyProvider(KeyProviders.keyFile(key)).create().close();
        Path signals = dir.resolve("signals");
        Files.createDirectories(signals);
        List<Process> replicas = new ArrayList<>();
        List<Path> outputs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Path out = dir.resolve("replica-" + i + ".log");
            outputs.add(out);
            replicas.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), ReplicaMain.class.getName(),
                    repoDir.toString(), key.toString(), signals.toString(), out.toString(), Integer.toString(42 + i))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("replica-" + i + ".stdout").toFile()).start());
        }
        try {
            // barrier: both JVMs have opened the repository before either scheduler starts
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            for (int i = 0; i < 2; i++) {
                while (!Files.exists(signals.resolve("ready-" + (42 + i)))) {
                    assertTrue(replicas.get(i).isAlive(), () -> "replica exited early: " + stdout(0) + stdout(1));
                    assertTrue(System.nanoTime() < deadline, "replicas did not start in 5 minutes");
                    Thread.sleep(50);
                }
            }
            Files.writeString(signals.resolve("go"), "");
            // poll: run until enough ticks were contested (at least the minimum, 30 s' worth by default), or give up after 5 minutes
            long minimum = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.getLong("backupkit.replicas.seconds", 30));
            while (System.nanoTime() < deadline && (System.nanoTime() < minimum || !enough(outputs))) {
                for (Process p : replicas) {
                    assertTrue(p.isAlive(), () -> "replica exited early: " + stdout(0) + stdout(1));
                }
                Thread.sleep(250);
            }
        } finally {
            Files.writeString(signals.resolve("stop"), "");
        }
        for (int i = 0; i < 2; i++) {
            Process p = replicas.get(i);
            assertTrue(p.waitFor(3, TimeUnit.MINUTES), "replica " + i + " finished");
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("replica-" + i + ".stdout")));
        }
        Map<String, List<String>> succeededBy = new HashMap<>();
        Map<String, Set<Integer>> seenBy = new HashMap<>();
        int skipped = 0;
        int lateSkips = 0;
        for (int i = 0; i < 2; i++) {
            List<String> lines = Files.readAllLines(outputs.get(i));
            assertTrue(lines.contains("STOPPED true"), "replica " + i + " stopped cleanly: " + lines);
            for (String line : lines) {
                String[] f = line.split(" ", 4);
                if (f[0].equals("FAILED")) {
                    throw new AssertionError("replica " + i + ": " + line);
                }
                if (f[0].equals("SUCCEEDED")) {
                    succeededBy.computeIfAbsent(f[1], t -> new ArrayList<>()).add(i + ":" + f[2]);
                }
                if (f[0].equals("SKIPPED")) {
                    skipped++;
                    if (line.contains("was already run by")) {
                        lateSkips++; // woke after the other replica had finished and released the lock
                    }
                }
                if (f[0].equals("SUCCEEDED") || f[0].equals("SKIPPED")) {
                    seenBy.computeIfAbsent(f[1], t -> new HashSet<>()).add(i);
                }
            }
        }
        for (Map.Entry<String, List<String>> e : succeededBy.entrySet()) {
            assertEquals(1, e.getValue().size(), "tick " + e.getKey() + " ran once, not " + e.getValue());
        }
        long contested = seenBy.values().stream().filter(s -> s.size() == 2).count();
        assertTrue(contested >= 4, "both replicas competed for several ticks: " + seenBy);
        for (Map.Entry<String, Set<Integer>> e : seenBy.entrySet()) {
            if (e.getValue().size() == 2) {
                assertTrue(succeededBy.containsKey(e.getKey()), "a tick both saw was run by one of them: " + e.getKey());
            }
        }
        try (Repository repo = Repository.builder().location(repoDir.toString()).keyProvider(KeyProviders.keyFile(key)).open()) {
            List<Snapshot> snaps = repo.snapshots().list();
            assertEquals(succeededBy.size(), snaps.size(), "one snapshot per run");
            Set<String> ticks = new HashSet<>();
            for (Snapshot s : snaps) {
                assertTrue(ticks.add(s.tags().get("tick")), "two snapshots for tick " + s.tags().get("tick"));
                assertTrue(succeededBy.containsKey(Instant.parse(s.tags().get("tick")).toString()));
            }
        }
        assertTrue(skipped >= 4, "the losing replica skipped");
        assertTrue(lateSkips >= 1, "the tick claim, not only the lock, was exercised");
    }

    private String stdout(int i) {
        try {
            return Files.readString(dir.resolve("replica-" + i + ".stdout"));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** The replicas' complete lines so far show what the assertions need: contested ticks, skips, a late skip. */
    private static boolean enough(List<Path> outputs) throws java.io.IOException {
        Map<String, Set<Integer>> seenBy = new HashMap<>();
        int skipped = 0;
        int lateSkips = 0;
        for (int i = 0; i < outputs.size(); i++) {
            if (!Files.exists(outputs.get(i))) {
                return false;
            }
            String text = Files.readString(outputs.get(i));
            for (String line : text.substring(0, text.lastIndexOf('\n') + 1).lines().toList()) {
                String[] f = line.split(" ", 4);
                if (f.length < 2) {
                    continue;
                }
                if (f[0].equals("SKIPPED")) {
                    skipped++;
                    lateSkips += line.contains("was already run by") ? 1 : 0;
                }
                if (f[0].equals("SUCCEEDED") || f[0].equals("SKIPPED")) {
                    seenBy.computeIfAbsent(f[1], t -> new HashSet<>()).add(i);
                }
            }
        }
        return seenBy.values().stream().filter(s -> s.size() == 2).count() >= 4 && skipped >= 4 && lateSkips >= 1;
    }
}
