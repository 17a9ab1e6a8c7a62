package io.backupkit.ops;

/**
 * Receives the events of scheduled and one-shot runs: notifiers, metrics, an application's own
 * logic. Called on the job's thread, so it must return quickly (notifiers queue and send on their
 * own threads); an exception thrown here is logged and counted, never fails the run.
 *
 * <pre>{@code
 * JobListener pager = e -> { if (e.type() == JobEvent.Type.FAILED) pagerDuty.trigger(e.job(), e.error()); };
 * }</pre>
 */
@FunctionalInterface
public interface JobListener {
    void onEvent(JobEvent event);
}
