package io.backupkit.cli;

import io.backupkit.BackupResult;
import io.backupkit.ops.JobEvent;
import io.backupkit.ops.RunRecord;
import io.backupkit.ops.ScheduledJob;
import io.backupkit.ops.WebhookNotifier;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The outcome event of a one-shot {@code backup --notify-webhook}: posted, then flushed within a bounded time. */
final class OneShotEvents {
    static final String JOB = "backup";

    private OneShotEvents() {
    }

    static JobEvent succeeded(BackupResult r, Instant started) {
        RunRecord run = new RunRecord(JOB, "backup", null, started, Instant.now(), RunRecord.SUCCEEDED, 1, r.snapshotId(), null,
                r.bytesRead(), r.bytesStored(), r.duration().toMillis(), null, null, null, host());
        return new JobEvent(JobEvent.Type.SUCCEEDED, JOB, ScheduledJob.Kind.BACKUP, null, run.finished(), 1, r.snapshotId(), null, run);
    }

    static JobEvent failed(String error, Instant started) {
        RunRecord run = new RunRecord(JOB, "backup", null, started, Instant.now(), RunRecord.FAILED, 1, null, error, 0, 0,
                Duration.between(started, Instant.now()).toMillis(), null, null, null, host());
        return new JobEvent(JobEvent.Type.FAILED, JOB, ScheduledJob.Kind.BACKUP, null, run.finished(), 1, null, error, run);
    }

    /** Sends to every notifier and waits for delivery, at most about 40 s in all (3 tries of at most 10 s each). */
    static void send(List<WebhookNotifier> notifiers, JobEvent event, Terminal terminal) {
        for (WebhookNotifier n : notifiers) {
            n.onEvent(event);
        }
        for (WebhookNotifier n : notifiers) {
            n.close();
            if (n.failures() > 0 || n.dropped() > 0) {
                terminal.err.println("backupkit: warning: the webhook notification could not be delivered (the backup itself is "
                        + (event.type() == JobEvent.Type.SUCCEEDED ? "saved" : "unaffected") + ")");
                terminal.err.flush();
            }
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "unknown-host";
        }
    }
}
