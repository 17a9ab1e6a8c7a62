package io.backupkit.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether a process named in a lock or an announcement (host, pid, start time) is certainly gone, so
 * what it left behind may be ignored. Every such check goes through here: a wrong "gone" lets a second
 * prune run or a key slot removal forget a running one, so unknowns always answer "not gone".
 */
public final class LocalProcess {
    /** The OS reports start times with some rounding: within this much it is the same process. */
    static final Duration START_TOLERANCE = Duration.ofSeconds(2);

    private LocalProcess() {
    }

    /**
     * True only when {@code host} is this host and it has no process {@code pid}, or that pid now belongs
     * to a process started at another time than {@code processStart} (null: unknown, then a live pid counts
     * as the same process). This process is never gone.
     */
    public static boolean gone(String host, long pid, Instant processStart) {
        if (!HostName.get().equals(host) || pid == ProcessHandle.current().pid()) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return true;
        }
        if (processStart == null) {
            return false;
        }
        Optional<Instant> actual = p.get().info().startInstant();
        return actual.isPresent() && Duration.between(actual.get(), processStart).abs().compareTo(START_TOLERANCE) > 0;
    }

    /** This process's start time, as {@link #gone} compares it; empty where the OS does not tell. */
    public static Optional<Instant> currentStart() {
        return ProcessHandle.current().info().startInstant();
    }
}
