package io.backupkit.postgres.internal.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;

/**
 * The long page header at the start of every WAL segment ({@code XLogLongPageHeaderData}), written
 * in the server's byte order:
 * <pre>
 * 0  uint16 xlp_magic      WAL format version (XLOG_PAGE_MAGIC)
 * 2  uint16 xlp_info       flags; XLP_LONG_HEADER = 0x0002
 * 4  uint32 xlp_tli        timeline of the page
 * 8  uint64 xlp_pageaddr   WAL position of the page (the segment's start)
 * 16 uint32 xlp_rem_len
 * 24 uint64 xlp_sysid      system identifier of the cluster
 * 32 uint32 xlp_seg_size   wal_segment_size
 * 36 uint32 xlp_xlog_blcksz
 * </pre>
 *
 * @param magic        XLOG_PAGE_MAGIC
 * @param timeline     xlp_tli
 * @param pageAddress  xlp_pageaddr
 * @param systemId     xlp_sysid
 * @param segmentSize  xlp_seg_size
 * @param blockSize    xlp_xlog_blcksz
 */
public record WalPageHeader(int magic, int timeline, long pageAddress, long systemId, long segmentSize, int blockSize) {
    public static final int LENGTH = 40;
    private static final int XLP_LONG_HEADER = 0x0002;

    /**
     * XLOG_PAGE_MAGIC by major version (src/include/access/xlog_internal.h). Each major version that
     * changed the WAL format got a new value; a segment's magic tells which server wrote it.
     */
    static final Map<Integer, Integer> MAGIC_BY_VERSION = Map.of(
            13, 0xD106,
            14, 0xD10D,
            15, 0xD110,
            16, 0xD113,
            17, 0xD116);

    /** The PostgreSQL major version whose WAL carries {@code magic}, if known. */
    public static Optional<Integer> versionOf(int magic) {
        return MAGIC_BY_VERSION.entrySet().stream().filter(e -> e.getValue() == magic).map(Map.Entry::getKey).findFirst();
    }

    /**
     * Parses the first {@link #LENGTH} bytes of a segment.
     *
     * @return empty when the bytes are not a long WAL page header (wrong magic range or flags), in
     *         either byte order
     */
    public static Optional<WalPageHeader> parse(byte[] b, int off, int len) {
        if (len < LENGTH) {
            return Optional.empty();
        }
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteBuffer buf = ByteBuffer.wrap(b, off, LENGTH).order(order);
            int magic = buf.getShort(off) & 0xffff;
            int info = buf.getShort(off + 2) & 0xffff;
            // every XLOG_PAGE_MAGIC so far is 0xD0xx or 0xD1xx
            if ((magic & 0xfe00) != 0xd000 || (info & XLP_LONG_HEADER) == 0) {
                continue;
            }
            int tli = buf.getInt(off + 4);
            long pageAddr = buf.getLong(off + 8);
            long sysid = buf.getLong(off + 24);
            long segSize = buf.getInt(off + 32) & 0xffffffffL;
            int blcksz = buf.getInt(off + 36);
            if (!WalNames.validSegmentSize(segSize) || blcksz <= 0 || Integer.bitCount(blcksz) != 1) {
                continue;
            }
            return Optional.of(new WalPageHeader(magic, tli, pageAddr, sysid, segSize, blcksz));
        }
        return Optional.empty();
    }

    /** The system identifier as PostgreSQL prints it (unsigned decimal). */
    public String systemIdText() {
        return Long.toUnsignedString(systemId);
    }
}
