package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.Lsn;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the records of one WAL segment far enough to tell what a point-in-time restore can reach in
 * it: where the valid WAL ends, the commit and abort times of transactions, and restore points. The
 * record layout (page headers, {@code XLogRecord}, the main-data header) has not changed from
 * PostgreSQL 9.5 to 17; each record's CRC-32C is checked, and a page whose address does not match
 * (a recycled segment's old content) ends the valid WAL, as it does for the server.
 */
public final class WalScanner {
    private static final int XLOG_PAGE_MAGIC_MIN = 0xD000;
    private static final int SHORT_PHD = 24;
    private static final int LONG_PHD = 40;
    private static final int RECORD_HEADER = 24;
    private static final int XLP_LONG_HEADER = 0x0002;
    private static final int RM_XLOG = 0;
    private static final int RM_XACT = 1;
    private static final int XLOG_SWITCH = 0x40;
    private static final int XLOG_RESTORE_POINT = 0x70;
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

    /** A restore point made with pg_create_restore_point. */
    public record RestorePoint(String name, Instant time, Lsn lsn) {
    }

    /**
     * What a segment holds.
     *
     * @param validEnd       end of the last complete, valid record that starts in this segment (or the
     *                       segment start when none does)
     * @param lastCommitTime time of the last transaction commit or abort whose record is in this segment, or null
     * @param lastCommitEnd  end of that record
     * @param restorePoints  restore points in this segment
     * @param switched       an XLOG_SWITCH record ends the segment
     */
    public record Summary(Lsn validEnd, Instant lastCommitTime, Lsn lastCommitEnd, List<RestorePoint> restorePoints, boolean switched,
                          int records, Instant firstCommitAfterTime, java.util.Set<Long> commitXids) {
    }

    private WalScanner() {
    }

    /**
     * Scans {@code segment} (its bytes as archived; may be shorter than a full segment) whose first
     * byte is at {@code segmentStart}.
     */
    public static Summary scan(byte[] segment, Lsn segmentStart) {
        return scan(segment, segmentStart, null);
    }

    /**
     * As {@link #scan(byte[], Lsn)}; with {@code after} set, also the first commit time later than it
     * ({@link Summary#firstCommitAfterTime()}), which is where a time target stops.
     */
    public static Summary scan(byte[] segment, Lsn segmentStart, Instant after) {
        ByteBuffer b = ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN);
        if (segment.length < LONG_PHD) {
            return new Summary(segmentStart, null, null, List.of(), false, 0, null, java.util.Set.of());
        }
        int pageSize = 8192;
        int info = b.getShort(2) & 0xffff;
        if ((info & XLP_LONG_HEADER) != 0) {
            int blcksz = b.getInt(36);
            if (blcksz >= 1024 && blcksz <= 65536 && Integer.bitCount(blcksz) == 1) {
                pageSize = blcksz;
            }
        }
        long base = segmentStart.value();
        Instant lastCommit = null;
        Lsn lastCommitEnd = null;
        List<RestorePoint> points = new ArrayList<>();
        java.util.Set<Long> xids = new java.util.HashSet<>();
        Instant firstAfter = null;
        long validEnd = base;
        int records = 0;
        // first page: skip the long header and the tail of a record continued from the previous segment
        int pos;
        if (!pageValid(b, 0, base)) {
            return new Summary(segmentStart, null, null, List.of(), false, 0, null, java.util.Set.of());
        }
        int remLen = b.getInt(16);
        pos = headerSize(b, 0);
        if (remLen > 0) {
            pos = skipContinuation(b, 0, pos, remLen, pageSize, base);
            if (pos < 0) {
                return new Summary(segmentStart, null, null, List.of(), false, 0, null, java.util.Set.of());
            }
        }
        pos = align(pos);
        long prev = -1;
        while (true) {
            // a record header never starts in the page header; move past it at a page boundary
            if (pos % pageSize == 0) {
                if (pos >= segment.length || !pageValid(b, pos, base + pos)) {
                    break;
                }
                pos += headerSize(b, pos);
            }
            // a record header may itself be split across a page boundary: gather reads it like any record bytes
            byte[] header = gather(b, pos, RECORD_HEADER, pageSize, base);
            if (header == null) {
                break;
            }
            ByteBuffer h = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            int totLen = h.getInt(0);
            if (totLen < RECORD_HEADER || totLen > 1 << 30) {
                break;
            }
            long xlPrev = h.getLong(8);
            if (prev >= 0 && xlPrev != prev) {
                break;
            }
            byte[] rec = gather(b, pos, totLen, pageSize, base);
            if (rec == null) {
                // the record continues in the next segment: its end is beyond this segment
                break;
            }
            CRC32C crc = new CRC32C();
            crc.update(rec, RECORD_HEADER, totLen - RECORD_HEADER);
            crc.update(rec, 0, 20);
            if ((int) crc.getValue() != h.getInt(20)) {
                break;
            }
            long start = base + pos;
            int end = advance(pos, totLen, pageSize, b);
            long recEnd = base + end;
            records++;
            validEnd = recEnd;
            prev = start;
            int xlInfo = header[16] & 0xff;
            int rmid = header[17] & 0xff;
            if (rmid == RM_XACT) {
                int op = xlInfo & 0x70;
                if (op == 0x00 || op == 0x20 || op == 0x30 || op == 0x40) {
                    ByteBuffer main = mainData(rec);
                    if (main != null && main.remaining() >= 8) {
                        lastCommit = pgTime(main.getLong(main.position()));
                        lastCommitEnd = new Lsn(recEnd);
                        if (after != null && firstAfter == null && lastCommit.isAfter(after)) {
                            firstAfter = lastCommit;
                        }
                    }
                    xids.add(h.getInt(4) & 0xFFFFFFFFL);
                }
            } else if (rmid == RM_XLOG) {
                int op = xlInfo & 0xF0;
                if (op == XLOG_RESTORE_POINT) {
                    ByteBuffer main = mainData(rec);
                    if (main != null && main.remaining() >= 8) {
                        Instant t = pgTime(main.getLong(main.position()));
                        byte[] nameBytes = new byte[Math.min(64, main.remaining() - 8)];
                        main.position(main.position() + 8);
                        main.get(nameBytes);
                        points.add(new RestorePoint(TarReader.cString(nameBytes, 0, nameBytes.length), t, new Lsn(start)));
                    }
                } else if (op == XLOG_SWITCH) {
                    return new Summary(new Lsn(recEnd), lastCommit, lastCommitEnd, List.copyOf(points), true, records, firstAfter, xids);
                }
            }
            pos = align(end);
            if (pos >= segment.length) {
                break;
            }
        }
        return new Summary(new Lsn(validEnd), lastCommit, lastCommitEnd, List.copyOf(points), false, records, firstAfter, xids);
    }

    private static boolean pageValid(ByteBuffer b, int off, long lsn) {
        if (off + SHORT_PHD > b.capacity()) {
            return false;
        }
        int magic = b.getShort(off) & 0xffff;
        long addr = b.getLong(off + 8);
        return magic >= XLOG_PAGE_MAGIC_MIN && addr == lsn;
    }

    private static int headerSize(ByteBuffer b, int off) {
        return (b.getShort(off + 2) & XLP_LONG_HEADER) != 0 ? LONG_PHD : SHORT_PHD;
    }

    private static int align(int pos) {
        return (pos + 7) & ~7;
    }

    /** Skips {@code remLen} bytes of a record continued from before, across page headers; -1 if it leaves the segment. */
    private static int skipContinuation(ByteBuffer b, int pageOff, int pos, int remLen, int pageSize, long base) {
        int left = remLen;
        while (true) {
            int room = pageSize - pos % pageSize;
            if (left <= room) {
                return pos + left;
            }
            left -= room;
            pos += room;
            if (pos >= b.capacity() || !pageValid(b, pos, base + pos)) {
                return -1;
            }
            pos += headerSize(b, pos);
        }
    }

    /** {@code len} bytes of a record starting at {@code pos}, skipping page headers; null when they run past the data. */
    private static byte[] gather(ByteBuffer b, int pos, int len, int pageSize, long base) {
        byte[] out = new byte[len];
        int got = 0;
        while (got < len) {
            if (pos % pageSize == 0) {
                if (pos >= b.capacity() || !pageValid(b, pos, base + pos)) {
                    return null;
                }
                pos += headerSize(b, pos);
            }
            int room = pageSize - pos % pageSize;
            int n = Math.min(room, len - got);
            if (pos + n > b.capacity()) {
                return null;
            }
            b.get(pos, out, got, n);
            got += n;
            pos += n;
        }
        return out;
    }

    /** The position just after a record of {@code len} bytes starting at {@code pos}. */
    private static int advance(int pos, int len, int pageSize, ByteBuffer b) {
        int left = len;
        while (true) {
            if (pos % pageSize == 0) {
                pos += headerSize(b, pos);
            }
            int room = pageSize - pos % pageSize;
            if (left <= room) {
                return pos + left;
            }
            left -= room;
            pos += room;
        }
    }

    /**
     * The main data of a record without block references (commit, abort, restore point records):
     * the headers after XLogRecord are an optional origin (253), an optional top-level xid (252),
     * then the main-data length (255: one byte, 254: four); the main data is the record's last bytes.
     */
    private static ByteBuffer mainData(byte[] rec) {
        ByteBuffer r = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
        int p = RECORD_HEADER;
        while (p < rec.length) {
            int id = rec[p] & 0xff;
            if (id == 253) {
                p += 1 + 2;
            } else if (id == 252) {
                p += 1 + 4;
            } else if (id == 255) {
                int len = rec[p + 1] & 0xff;
                return r.position(rec.length - len).slice().order(ByteOrder.LITTLE_ENDIAN);
            } else if (id == 254) {
                int len = r.getInt(p + 1);
                return r.position(rec.length - len).slice().order(ByteOrder.LITTLE_ENDIAN);
            } else {
                // block references: not a record this scanner needs
                return null;
            }
        }
        return null;
    }

    private static Instant pgTime(long micros) {
        long unix = micros + PG_EPOCH_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(unix, 1_000_000L), Math.floorMod(unix, 1_000_000L) * 1000);
    }
}
