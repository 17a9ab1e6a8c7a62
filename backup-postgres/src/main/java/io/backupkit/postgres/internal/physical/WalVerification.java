package io.backupkit.postgres.internal.physical;

import io.backupkit.VerificationCheck;
import io.backupkit.postgres.Lsn;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.WalContinuity;
import io.backupkit.postgres.internal.wal.WalNames;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * WAL continuity of one base backup, as verification checks: one per timeline reachable from it,
 * from the first segment recovery needs from the archive to the newest archived segment, every
 * missing segment named. The WAL the snapshot carries itself ({@code walIncluded}) is not needed
 * from the archive, so the archive is checked from the segment after it.
 */
public final class WalVerification {
    private WalVerification() {
    }

    /** The checks for base backup {@code base} (short id {@code shortId}) against the archive. */
    public static List<VerificationCheck> checks(WalArchive wal, PhysicalMetadata base, String shortId) {
        long sysid = Long.parseUnsignedLong(base.systemIdentifier());
        long seg = base.walSegmentSize();
        // recovery takes the snapshot's own WAL from pg_wal; the archive must go on from the segment after it
        Lsn from = base.walIncluded() ? new Lsn((PhysicalMetadata.lastSegment(base.stopLsn(), seg) + 1) * seg) : base.startLsn();
        WalContinuity c = wal.continuity(sysid, base.timeline(), from);
        // an archive that never got a segment of this cluster has no segment size recorded: name the first one ourselves
        String firstNeeded = WalNames.segmentOf(base.timeline(), from, seg);
        List<VerificationCheck> out = new ArrayList<>();
        for (WalContinuity.TimelineRange r : c.timelines()) {
            String name = "wal timeline " + r.timeline();
            String which = "base backup " + shortId + (r.parent() > 0 ? ", timeline " + r.timeline() + " (from " + r.parent() + ")"
                    : ", timeline " + r.timeline());
            if (!r.reachable()) {
                out.add(VerificationCheck.failed(name, which + " cannot be reached: timeline " + r.parent()
                        + " has a gap before the branch point " + r.from() + " (see its check)"));
            } else if (!r.gaps().isEmpty()) {
                out.add(VerificationCheck.failed(name, which + ": missing " + r.gaps().stream().map(WalContinuity.Gap::toString)
                        .collect(Collectors.joining(", ")) + " between " + r.firstSegment() + " and the newest archived segment "
                        + r.lastSegment() + "; recovery stops at " + r.contiguousTo()
                        + ". Archive the missing WAL if the server still has it, or take a new base backup"));
            } else if (r.lastSegment() == null) {
                if (r.parent() > 0) {
                    out.add(VerificationCheck.skipped(name, which + ": no WAL archived on it yet"));
                } else if (base.walIncluded()) {
                    out.add(VerificationCheck.skipped(name, which + ": no WAL archived after the backup (from " + firstNeeded
                            + "); it restores to its end (" + base.stopLsn() + ") only"));
                } else {
                    out.add(VerificationCheck.failed(name, which + ": the WAL it needs to become consistent (from " + firstNeeded
                            + ", up to " + base.stopLsn() + ") is not archived and not in the snapshot"));
                }
            } else {
                out.add(VerificationCheck.passed(name, which + ": " + r.firstSegment() + " to " + r.lastSegment() + " archived without a gap"
                        + "; recovery reaches " + r.contiguousTo()));
            }
        }
        return out;
    }

}
