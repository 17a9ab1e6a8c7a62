package io.backupkit.postgres.internal.wal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads the system identifier from a data directory's {@code global/pg_control}. Its layout begins,
 * in every version since 9.x, with {@code uint64 system_identifier} then
 * {@code uint32 pg_control_version} (e.g. 1300 for PostgreSQL 13–17), in the server's byte order.
 */
public final class PgControl {
    private PgControl() {
    }

    /**
     * The system identifier of the cluster in {@code dataDirectory}, or empty when the directory has
     * no readable pg_control (not a data directory, or no permission).
     */
    public static Optional<Long> systemId(Path dataDirectory) {
        Path control = dataDirectory.resolve("global").resolve("pg_control");
        if (!Files.isReadable(control)) {
            return Optional.empty();
        }
        byte[] head = new byte[16];
        try (InputStream in = Files.newInputStream(control)) {
            if (in.readNBytes(head, 0, 16) < 16) {
                return Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return parse(head);
    }

    public static Optional<Long> parse(byte[] head) {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            ByteBuffer b = ByteBuffer.wrap(head).order(order);
            long sysid = b.getLong(0);
            int version = b.getInt(8);
            // pg_control_version: 942 (9.4) … 1300 (13–17); a plausible value tells the byte order
            if (version >= 900 && version < 10000) {
                return Optional.of(sysid);
            }
        }
        return Optional.empty();
    }
}
