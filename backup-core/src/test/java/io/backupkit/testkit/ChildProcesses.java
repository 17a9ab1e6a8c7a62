package io.backupkit.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The child processes of this test JVM as Linux shows them in /proc: which are still alive, and whether
 * one is blocked writing to a full pipe (its wait channel), so a test can wait for a state instead of
 * sleeping.
 */
public final class ChildProcesses {
    private ChildProcesses() {
    }

    /** The live descendants of this JVM whose program path ends with {@code "/" + name}. */
    public static List<ProcessHandle> named(String name) {
        return ProcessHandle.current().descendants().filter(ProcessHandle::isAlive)
                .filter(p -> p.info().command().orElse("").endsWith("/" + name)).toList();
    }

    /** The first live descendant named {@code name}, waiting up to {@code timeout} for it to appear (a spawn helper execs it a moment later). */
    public static Optional<ProcessHandle> awaitNamed(String name, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            List<ProcessHandle> found = named(name);
            if (!found.isEmpty()) {
                return Optional.of(found.get(0));
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return Optional.empty();
    }

    /** Whether {@code p} waits in the kernel to write to a pipe nobody drains (wait channel {@code pipe_write} or {@code anon_pipe_write}). */
    public static boolean blockedWritingAPipe(ProcessHandle p) {
        try {
            return Files.readString(Path.of("/proc/" + p.pid() + "/wchan")).contains("pipe_write");
        } catch (IOException e) {
            return false; // it ended
        }
    }

    /** Waits until {@code p} has stayed blocked writing a pipe for {@code steady} (polled every 50 ms), at most {@code timeout}. */
    public static boolean awaitBlockedWritingAPipe(ProcessHandle p, Duration steady, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long since = -1;
        while (System.nanoTime() < deadline) {
            if (blockedWritingAPipe(p)) {
                if (since < 0) {
                    since = System.nanoTime();
                } else if (System.nanoTime() - since >= steady.toNanos()) {
                    return true;
                }
            } else {
                since = -1;
            }
            Thread.sleep(50);
        }
        return false;
    }

    /**
     * Whether this system shows wait channels (some kernels and containers show "0" for every process):
     * a {@code sleep} child must show one.
     */
    public static boolean waitChannelsShown() {
        Process sleep = null;
        try {
            sleep = new ProcessBuilder("sleep", "5").start();
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (System.nanoTime() < deadline) {
                String wchan = Files.readString(Path.of("/proc/" + sleep.pid() + "/wchan")).strip();
                if (!wchan.isEmpty() && !wchan.equals("0")) {
                    return true;
                }
                Thread.sleep(20);
            }
            return false;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            if (sleep != null) {
                sleep.destroyForcibly();
            }
        }
    }
}
