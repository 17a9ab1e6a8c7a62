package io.backupkit.mysql;

import java.time.Instant;

/**
 * A binary log file in a {@link BinlogArchive}: complete (the server moved on to the next file) or
 * the part of the file the server was still writing that the archive holds, as pieces that follow
 * each other from the start of the file.
 *
 * @param name           the server's file name, e.g. {@code binlog.000042}
 * @param complete       whether the archive holds the whole file
 * @param length         bytes archived (complete events only)
 * @param firstEventTime time of its first event (seconds precision), or null
 * @param lastEventTime  time of its last archived event, or null
 * @param objectNames    the objects inside the archive namespace that hold it, in order (one for a complete file)
 * @param archivedAt     when its last piece was stored (for a partial file, every event the server wrote before then is in it)
 */
public record BinlogFile(String name, boolean complete, long length, Instant firstEventTime, Instant lastEventTime,
                         java.util.List<String> objectNames, Instant archivedAt) {

    public BinlogFile {
        objectNames = java.util.List.copyOf(objectNames);
    }

    /** The sequence number (42 for binlog.000042). */
    public long sequence() {
        return BinlogPosition.sequenceOf(name);
    }
}
