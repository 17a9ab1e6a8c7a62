package io.backupkit;

import java.time.Duration;
import java.time.Instant;

/**
 * A repository lock as {@link Unlocker} sees it.
 *
 * @param name      the lock object ({@code locks/<32 hex>})
 * @param kind      shared, prune or exclusive
 * @param operation what holds it (backup, restore, prune, …)
 * @param host      the holder's host
 * @param pid       the holder's process id
 * @param created   when the lock was taken (holder's clock)
 * @param age       time since its last refresh
 * @param stale     whether {@code unlock} without force removes it
 * @param why       why it is stale ("not refreshed for 42 min", "process 1234 on this host is gone"), or why not
 */
public record LockSummary(String name, String kind, String operation, String host, long pid, Instant created, Duration age,
                          boolean stale, String why) {
    /** "backup on db-1 (pid 1234)". */
    public String holder() {
        return operation + " on " + host + " (pid " + pid + ")";
    }
}
