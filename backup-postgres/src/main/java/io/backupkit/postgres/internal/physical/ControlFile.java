package io.backupkit.postgres.internal.physical;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The first fields of {@code global/pg_control}: the system identifier (uint64) and the control file
 * version (uint32, 1300 for PostgreSQL 13–16, 1700 for 17). The file is in the server's byte order;
 * the version tells which order that is.
 */
public record ControlFile(String systemIdentifier, int controlVersion) {

    public static ControlFile parse(byte[] content) {
        if (content == null || content.length < 12) {
            throw new IllegalArgumentException("global/pg_control is too short");
        }
        for (ByteOrder order : new ByteOrder[]{ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteBuffer b = ByteBuffer.wrap(content).order(order);
            long sysid = b.getLong(0);
            int version = b.getInt(8);
            if (version >= 900 && version < 10000) {
                return new ControlFile(Long.toUnsignedString(sysid), version);
            }
        }
        throw new IllegalArgumentException("global/pg_control has no plausible control file version");
    }
}
