package io.backupkit;

/**
 * Progress of a backup or restore, sent to listeners from worker threads.
 *
 * @param kind          what happened
 * @param stream        the stream concerned, or null
 * @param bytesRead     plaintext bytes read so far, all streams
 * @param bytesStored   bytes written to storage so far
 * @param expectedBytes the source's estimate of all plaintext bytes, or -1 when unknown
 */
public record ProgressEvent(Kind kind, String stream, long bytesRead, long bytesStored, long expectedBytes) {

    public enum Kind { STREAM_STARTED, PROGRESS, STREAM_FINISHED, PACK_STORED, SNAPSHOT_SAVED, RESTORE_PROGRESS }
}
