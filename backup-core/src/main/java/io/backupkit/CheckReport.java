package io.backupkit;

import java.util.List;

/**
 * The result of {@link Repository#check()} or {@link RepositoryChecker#check()}: problems found, if any.
 *
 * @param snapshots number of snapshots checked
 * @param packs     number of packs checked
 * @param blobs     number of indexed blobs
 * @param errors    problems that make data unreadable (missing pack, blob referenced but not indexed, damaged object)
 * @param warnings  harmless leftovers (packs not in any index, e.g. after a crashed backup)
 * @param packsRead packs whose every blob was read and checked (with read-data; 0 otherwise)
 * @param bytesRead bytes of those packs
 */
public record CheckReport(int snapshots, int packs, long blobs, List<String> errors, List<String> warnings, int packsRead,
                          long bytesRead) {
    public CheckReport {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    /** A structural check that read no pack data. */
    public CheckReport(int snapshots, int packs, long blobs, List<String> errors, List<String> warnings) {
        this(snapshots, packs, blobs, errors, warnings, 0, 0);
    }

    public boolean ok() {
        return errors.isEmpty();
    }
}
