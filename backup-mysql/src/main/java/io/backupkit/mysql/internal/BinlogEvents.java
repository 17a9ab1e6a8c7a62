package io.backupkit.mysql.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/**
 * Reads the event headers of a binary log file (format v4, MySQL 5.0+ and MariaDB): where the last
 * complete event ends, the first and last event times, and whether the file is finished (it ends
 * with a ROTATE or STOP event). Only headers are read; events themselves are replayed by the tools.
 */
public final class BinlogEvents {
    /** 0xfe 'b' 'i' 'n'. */
    static final byte[] MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
    static final int HEADER = 19;
    static final int STOP_EVENT = 3;
    static final int ROTATE_EVENT = 4;
    static final int FORMAT_DESCRIPTION_EVENT = 15;

    /**
     * What the headers say.
     *
     * @param validLength  bytes up to the end of the last complete event (a file being written may end mid-event)
     * @param events       complete events
     * @param firstTime    time of the first event with a time, or null
     * @param lastTime     time of the latest event, or null
     * @param finished     the file ends with a ROTATE or STOP event: the server writes no more to it
     * @param nextFile     the file a ROTATE event names, or null
     * @param serverId     server id of the format description event, or -1
     */
    public record Summary(long validLength, long events, Instant firstTime, Instant lastTime, boolean finished, String nextFile,
                          long serverId) {
    }

    private BinlogEvents() {
    }

    public static Summary read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        }
    }

    /** Reads headers from {@code in} to its end. */
    public static Summary read(InputStream in) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            return new Summary(0, 0, null, null, false, null, -1);
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException("not a binary log file (no 0xfe 'bin' magic number)");
        }
        long offset = 4;
        long events = 0;
        long first = 0;
        long last = 0;
        int lastType = -1;
        String nextFile = null;
        long serverId = -1;
        boolean checksums = false;
        byte[] header = new byte[HEADER];
        while (true) {
            int n = in.readNBytes(header, 0, HEADER);
            if (n < HEADER) {
                break;
            }
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            long time = Integer.toUnsignedLong(h.getInt(0));
            int type = header[4] & 0xff;
            long sid = Integer.toUnsignedLong(h.getInt(5));
            long size = Integer.toUnsignedLong(h.getInt(9));
            if (size < HEADER) {
                throw new IOException("damaged binary log: event at offset " + offset + " claims " + size + " bytes");
            }
            byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE, size - HEADER));
            if (body.length < size - HEADER) {
                break;
            }
            if (type == FORMAT_DESCRIPTION_EVENT) {
                serverId = sid;
                // the checksum algorithm byte precedes the 4-byte checksum at the event's end (1 = CRC32)
                checksums = body.length >= 5 && body[body.length - 5] == 1;
            }
            if (type == ROTATE_EVENT && body.length > 8) {
                int end = body.length - (checksums ? 4 : 0);
                nextFile = new String(body, 8, Math.max(0, end - 8), StandardCharsets.UTF_8);
            }
            if (time != 0) {
                if (first == 0) {
                    first = time;
                }
                last = Math.max(last, time);
            }
            lastType = type;
            offset += size;
            events++;
        }
        return new Summary(offset, events, first == 0 ? null : Instant.ofEpochSecond(first), last == 0 ? null : Instant.ofEpochSecond(last),
                lastType == ROTATE_EVENT || lastType == STOP_EVENT, nextFile, serverId);
    }
}
