package io.backupkit;

/** Receives {@link ProgressEvent}s; called from worker threads, so must be thread-safe and quick. */
@FunctionalInterface
public interface ProgressListener {
    void onProgress(ProgressEvent event);
}
