package io.backupkit.mysql.internal;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogEventsTest {

    /** A v4 event: 19-byte header, body, and (with checksums) a 4-byte trailer. */
    private static byte[] event(long time, int type, long serverId, byte[] body, boolean checksum) {
        int size = 19 + body.length + (checksum ? 4 : 0);
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) time).put((byte) type).putInt((int) serverId).putInt(size).putInt(0).putShort((short) 0).put(body);
        if (checksum) {
            b.putInt(0xdeadbeef);
        }
        return b.array();
    }

    private static byte[] formatDescription(long time) {
        byte[] body = new byte[60];
        body[body.length - 1] = 1; // checksum algorithm CRC32 (the 4-byte checksum follows)
        return event(time, BinlogEvents.FORMAT_DESCRIPTION_EVENT, 7, body, true);
    }

    private static byte[] file(byte[]... events) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(BinlogEvents.MAGIC);
        for (byte[] e : events) {
            out.write(e);
        }
        return out.toByteArray();
    }

    @Test
    void finishedFile_endsWithRotate_namingTheNext() throws IOException {
        byte[] rotateBody = new byte[8 + "binlog.000008".length()];
        System.arraycopy("binlog.000008".getBytes(StandardCharsets.US_ASCII), 0, rotateBody, 8, 13);
        byte[] f = file(formatDescription(1_000), event(1_005, 2, 7, new byte[30], true), event(1_009, 2, 7, new byte[30], true),
                event(1_010, BinlogEvents.ROTATE_EVENT, 7, rotateBody, true));
        BinlogEvents.Summary s = BinlogEvents.read(new ByteArrayInputStream(f));
        assertEquals(f.length, s.validLength());
        assertEquals(4, s.events());
        assertEquals(Instant.ofEpochSecond(1_000), s.firstTime());
        assertEquals(Instant.ofEpochSecond(1_010), s.lastTime());
        assertTrue(s.finished());
        assertEquals("binlog.000008", s.nextFile());
        assertEquals(7, s.serverId());
    }

    @Test
    void fileBeingWritten_stopsAtTheLastCompleteEvent() throws IOException {
        byte[] full = file(formatDescription(1_000), event(1_005, 2, 7, new byte[30], true), event(1_009, 2, 7, new byte[300], true));
        int complete = full.length - 323;
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 10);
        BinlogEvents.Summary s = BinlogEvents.read(new ByteArrayInputStream(cut));
        assertEquals(complete, s.validLength());
        assertEquals(2, s.events());
        assertFalse(s.finished());
        assertEquals(Instant.ofEpochSecond(1_005), s.lastTime());
    }

    @Test
    void emptyAndForeignFiles() throws IOException {
        BinlogEvents.Summary empty = BinlogEvents.read(new ByteArrayInputStream(new byte[0]));
        assertEquals(0, empty.validLength());
        assertNull(empty.firstTime());
        IOException e = assertThrows(IOException.class, () -> BinlogEvents.read(new ByteArrayInputStream("hello world".getBytes())));
        assertEquals("not a binary log file (no 0xfe 'bin' magic number)", e.getMessage());
    }

    @Test
    void replayStream_dropsOnlyTheSourcesGtidSettings() throws IOException {
        String in = """
                # at 4
                /*M!100001 SET @@session.gtid_domain_id=0*//*!*/;
                /*M!100001 SET @@session.server_id=7*//*!*/;
                /*M!100001 SET @@session.gtid_seq_no=80*//*!*/;
                START TRANSACTION
                BINLOG '
                CgYNaxMHAAAAMAAAAPIBAAAAAGEAAAAAAAEAAnQyAARwaXRy
                '/*!*/;
                COMMIT/*!*/;
                -- SET @@session.server_id=7 inside a comment line stays
                """;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinlogReplay.copyWithoutGtids(new ByteArrayInputStream(in.getBytes(StandardCharsets.UTF_8)), out);
        assertEquals("""
                # at 4
                START TRANSACTION
                BINLOG '
                CgYNaxMHAAAAMAAAAPIBAAAAAGEAAAAAAAEAAnQyAARwaXRy
                '/*!*/;
                COMMIT/*!*/;
                -- SET @@session.server_id=7 inside a comment line stays
                """, out.toString(StandardCharsets.UTF_8));
    }
}
