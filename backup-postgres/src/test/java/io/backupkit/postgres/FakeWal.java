package io.backupkit.postgres;

import io.backupkit.postgres.internal.wal.WalNames;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Synthetic WAL files with real long page headers, for tests that need no server. */
final class FakeWal {
    static final long SEGMENT_SIZE = 1024 * 1024;

    private FakeWal() {
    }

    /** A segment's bytes: a long page header (PostgreSQL 15 magic, little-endian) and pseudo-random WAL. */
    static byte[] segment(long systemId, int timeline, long segmentNumber, long segmentSize, long seed) {
        byte[] b = new byte[(int) segmentSize];
        Random r = new Random(seed);
        // compressible like real WAL: runs of repeated records
        for (int i = 64; i < b.length; i += 256) {
            byte v = (byte) r.nextInt(4);
            for (int j = i; j < Math.min(b.length, i + 256); j++) {
                b[j] = (byte) (v + (j & 3));
            }
        }
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) 0xD110);
        h.putShort(2, (short) 0x0002);
        h.putInt(4, timeline);
        h.putLong(8, segmentNumber * segmentSize);
        h.putInt(16, 0);
        h.putLong(24, systemId);
        h.putInt(32, (int) segmentSize);
        h.putInt(36, 8192);
        return b;
    }

    /** Writes segment {@code segmentNumber} of {@code timeline} into {@code dir} under its WAL name. */
    static Path writeSegment(Path dir, long systemId, int timeline, long segmentNumber) {
        return write(dir, WalNames.segmentName(timeline, segmentNumber, SEGMENT_SIZE),
                segment(systemId, timeline, segmentNumber, SEGMENT_SIZE, segmentNumber * 31 + timeline));
    }

    static Path write(Path dir, String name, byte[] content) {
        try {
            Files.createDirectories(dir);
            Path p = dir.resolve(name);
            Files.write(p, content);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A data directory whose global/pg_control names {@code systemId} (only the fields backupkit reads). */
    static Path dataDirectory(Path dir, long systemId) {
        byte[] control = new byte[8192];
        ByteBuffer b = ByteBuffer.wrap(control).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, systemId);
        b.putInt(8, 1300);
        write(dir.resolve("global"), "pg_control", control);
        return dir;
    }
}
