package io.backupkit;

import java.time.Duration;
import java.util.List;

/**
 * What a prune did, or with {@link #dryRun()} would do. Deleting is two-phase: a pack no snapshot needs
 * is first marked obsolete (no new backup reuses its blobs), and deleted once no backup or restore that
 * started before the mark is still running. Without such operations both happen in one run.
 *
 * @param dryRun            nothing was written or deleted
 * @param packsDeleted      packs deleted (or that would be)
 * @param bytesDeleted      their bytes
 * @param packsRepacked     packs whose used blobs were copied into new packs because too much of them was unused
 * @param packsWritten      new packs written by repacking
 * @param bytesWritten      their bytes
 * @param packsMarked       packs marked obsolete in this run
 * @param packsResurrected  obsolete packs a new snapshot needs again, unmarked
 * @param packsPending      obsolete packs kept for now, see {@code pendingBecause}
 * @param bytesPending      their bytes, freed by a later prune
 * @param pendingBecause    why packs wait (the operations that started before they were marked)
 * @param bytesUnused       unused blob bytes left in packs below the repack threshold
 * @param indexObjectsWritten index objects written (merged indexes, prune state)
 * @param indexObjectsDeleted index objects deleted (merged into others)
 * @param snapshots         snapshots whose data was kept
 * @param duration          how long it took
 */
public record PruneResult(boolean dryRun, int packsDeleted, long bytesDeleted, int packsRepacked, int packsWritten,
                          long bytesWritten, int packsMarked, int packsResurrected, int packsPending, long bytesPending,
                          List<String> pendingBecause, long bytesUnused, int indexObjectsWritten, int indexObjectsDeleted,
                          int snapshots, Duration duration) {
    public PruneResult {
        pendingBecause = List.copyOf(pendingBecause);
    }

    /** Bytes the repository shrank by: deleted minus written. */
    public long bytesFreed() {
        return bytesDeleted - bytesWritten;
    }
}
