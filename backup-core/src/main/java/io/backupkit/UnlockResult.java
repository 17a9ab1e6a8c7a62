package io.backupkit;

import java.util.List;

/**
 * What {@link Unlocker#unlock()} did.
 *
 * @param removed locks removed
 * @param kept    locks left in place (held by running processes)
 * @param forced  whether live locks were removed too
 */
public record UnlockResult(List<LockSummary> removed, List<LockSummary> kept, boolean forced) {
    public UnlockResult {
        removed = List.copyOf(removed);
        kept = List.copyOf(kept);
    }
}
