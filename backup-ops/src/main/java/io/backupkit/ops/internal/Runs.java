package io.backupkit.ops.internal;

import io.backupkit.VerificationCheck;
import io.backupkit.VerificationReport;
import io.backupkit.ops.RunRecord;
import io.backupkit.ops.ScheduledJob;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/** Building run records, and durations for people. */
public final class Runs {
    private Runs() {
    }

    public static RunRecord.Verification verification(VerificationReport r) {
        int passed = (int) r.checks().stream().filter(c -> c.status() == VerificationCheck.Status.PASSED).count();
        return new RunRecord.Verification(r.level().name().toLowerCase(Locale.ROOT), r.passed(), passed, r.failures().size(),
                r.failures().stream().limit(20).map(c -> c.name() + (c.message() == null ? "" : ": " + c.message())).toList(),
                r.duration() == null ? 0 : r.duration().toMillis());
    }

    public static RunRecord record(ScheduledJob job, Instant tick, Instant started, Instant finished, int attempts, String snapshot,
                                   String error, long bytesRead, long bytesStored, long durationMillis,
                                   RunRecord.Verification verification) {
        return new RunRecord(job.name(), job.kind().name().toLowerCase(Locale.ROOT), tick, started, finished,
                error == null ? RunRecord.SUCCEEDED : RunRecord.FAILED, attempts, snapshot, error, bytesRead, bytesStored, durationMillis,
                verification, job.rpoTarget().map(Duration::getSeconds).orElse(null),
                job.rtoTarget().map(Duration::getSeconds).orElse(null), Hosts.name());
    }

    /** "3 h 5 min", "42 s", "1.2 s". */
    public static String human(Duration d) {
        long s = d.getSeconds();
        if (s < 10) {
            return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
        }
        if (s < 120) {
            return s + " s";
        }
        if (s < 7200) {
            return (s / 60) + " min";
        }
        if (s < 2 * 86400) {
            return (s / 3600) + " h " + (s % 3600 / 60) + " min";
        }
        return (s / 86400) + " d " + (s % 86400 / 3600) + " h";
    }
}
