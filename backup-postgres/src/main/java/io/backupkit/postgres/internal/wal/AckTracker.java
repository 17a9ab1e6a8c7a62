package io.backupkit.postgres.internal.wal;

import io.backupkit.postgres.Lsn;

import java.util.Map;
import java.util.TreeMap;

/**
 * Which WAL is durably stored, for the flush position the receiver reports. Every upload covers
 * the WAL from the stream's position up to its end (a whole segment, or a segment's prefix); uploads
 * finish in any order, and the stored position only advances over a run of finished uploads, so no
 * position is ever reported before everything before it is stored.
 */
public final class AckTracker {
    private final TreeMap<Lsn, Boolean> pending = new TreeMap<>();
    private Lsn stored;

    /** {@code start}: everything before it counts as stored already (it was stored before this stream). */
    public AckTracker(Lsn start) {
        this.stored = start;
    }

    /** An upload that covers WAL up to {@code end} (exclusive) was started. */
    public synchronized void started(Lsn end) {
        if (end.isAfter(stored)) {
            pending.putIfAbsent(end, Boolean.FALSE);
        }
    }

    /** The upload up to {@code end} is durable; returns the new stored position. */
    public synchronized Lsn finished(Lsn end) {
        if (pending.containsKey(end)) {
            pending.put(end, Boolean.TRUE);
        }
        while (!pending.isEmpty()) {
            Map.Entry<Lsn, Boolean> first = pending.firstEntry();
            if (!first.getValue()) {
                break;
            }
            stored = Lsn.max(stored, first.getKey());
            pending.pollFirstEntry();
        }
        notifyAll();
        return stored;
    }

    /** Everything before this position is durable. */
    public synchronized Lsn stored() {
        return stored;
    }

    /** Uploads not yet finished. */
    public synchronized int inFlight() {
        return (int) pending.values().stream().filter(done -> !done).count();
    }

    /** Waits until nothing is in flight or {@code millis} pass; returns whether everything finished. */
    public synchronized boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!pending.isEmpty()) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** Waits until the stored position reaches {@code target} or {@code millis} pass. */
    public synchronized boolean awaitStored(Lsn target, long millis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (stored.isBefore(target)) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }
}
