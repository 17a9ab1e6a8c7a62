package io.backupkit.mysql;

import java.time.Instant;

/**
 * A binary log file in a {@link BinlogArchive}: complete (the server moved on to the next file) or a
 * partial copy of the file the server was still writing.
 *
 * @param name           the server's file name, e.g. {@code binlog.000042}
 * @param complete       whether the archive holds the whole file
 * @param length         bytes archived (complete events only)
 * @param firstEventTime time of its first event (seconds precision), or null
 * @param lastEventTime  time of its last archived event, or null
 * @param objectName     the object's name inside the archive namespace
 * @param archivedAt     when this copy was stored (every event the server wrote before then is in it, for a partial copy)
 */
public record BinlogFile(String name, boolean complete, long length, Instant firstEventTime, Instant lastEventTime, String objectName,
                         Instant archivedAt) {

    /** The sequence number (42 for binlog.000042). */
    public long sequence() {
        return BinlogPosition.sequenceOf(name);
    }
}
