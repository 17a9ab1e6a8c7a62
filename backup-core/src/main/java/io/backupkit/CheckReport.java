package io.backupkit;

import java.util.List;

/**
 * The result of {@link Repository#check()}: structural problems found, if any.
 *
 * @param snapshots number of snapshots checked
 * @param packs     number of packs checked
 * @param blobs     number of indexed blobs
 * @param errors    problems that make data unreadable (missing pack, blob referenced but not indexed, damaged object)
 * @param warnings  harmless leftovers (packs not in any index, e.g. after a crashed backup)
 */
public record CheckReport(int snapshots, int packs, long blobs, List<String> errors, List<String> warnings) {
    public CheckReport {
        errors = List.copyOf(errors);
        warnings = List.copyOf(warnings);
    }

    public boolean ok() {
        return errors.isEmpty();
    }
}
