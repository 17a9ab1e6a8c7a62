package io.backupkit.postgres.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link JdbcCopy.Tap}'s parsing of CopyData messages, on a scripted stream that splits the bytes anywhere: every
 * header and payload cut across reads, rows larger than the buffer, what follows the rows left whole for the
 * driver, a stream ending inside a row, bytes put back in front; and the waits of a large COPY.
 */
class JdbcCopyTapTest {

    /**
     * The socket stream: {@code data} in reads of 1..maxRead bytes (seeded), then the end. {@code available()}
     * says how much is left, or, for a socket the reader keeps emptying, nothing.
     */
    private static final class Scripted extends InputStream {
        final byte[] data;
        final Random rnd;
        final int maxRead;
        boolean emptiedByEachRead;
        int at;
        int reads;

        Scripted(byte[] data, long seed, int maxRead) {
            this.data = data;
            this.rnd = new Random(seed);
            this.maxRead = maxRead;
        }

        @Override
        public int read() {
            return at < data.length ? data[at++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at == data.length) {
                return -1;
            }
            int n = Math.min(Math.min(len, data.length - at), 1 + rnd.nextInt(maxRead));
            System.arraycopy(data, at, b, off, n);
            at += n;
            reads++;
            return n;
        }

        @Override
        public int available() {
            return emptiedByEachRead ? 0 : data.length - at;
        }
    }

    private static byte[] message(char type, byte[] payload) {
        return ByteBuffer.allocate(5 + payload.length).put((byte) type).putInt(4 + payload.length).put(payload).array();
    }

    /** Rows of 0..3000 bytes (and one of 2.5 MiB unless small), as CopyData messages, then CopyDone and CommandComplete. */
    private static byte[][] rowsAndStream(long seed, int count, boolean huge) {
        Random rnd = new Random(seed);
        ByteArrayOutputStream rows = new ByteArrayOutputStream();
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            byte[] row = new byte[i == count / 2 && huge ? (5 << 19) : rnd.nextInt(3000)];
            rnd.nextBytes(row);
            rows.writeBytes(row);
            stream.writeBytes(message('d', row));
        }
        stream.writeBytes(message('c', new byte[0]));
        stream.writeBytes(message('C', "COPY 1\0".getBytes()));
        return new byte[][] {rows.toByteArray(), stream.toByteArray()};
    }

    /** CopyDone and CommandComplete ("COPY 1"), at the end of every scripted stream. */
    private static final int DRIVERS_PART = 5 + 5 + "COPY 1\0".length();

    @ParameterizedTest(name = "seed {0}, reads of up to {1} bytes")
    @CsvSource({"1, 1", "2, 3", "3, 7", "4, 4096", "5, 131072", "6, 1048576", "7, 3000000"})
    void theRows_comeOutWhole_whereverTheReadsCutThem_andTheRestIsLeftForTheDriver(long seed, int maxRead) throws Exception {
        boolean huge = maxRead > 1;
        byte[][] rs = rowsAndStream(seed, maxRead == 1 ? 300 : 2000, huge);
        JdbcCopy.Tap tap = new JdbcCopy.Tap(new Scripted(rs[1], seed, maxRead), new Socket());
        tap.startCopy();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long rows = tap.copyData(out::write);
        assertEquals(maxRead == 1 ? 300 : 2000, rows);
        assertArrayEquals(rs[0], out.toByteArray());
        // CopyDone and CommandComplete stay for the driver, byte for byte, through the tap's InputStream side
        byte[] rest = tap.readAllBytes();
        assertArrayEquals(Arrays.copyOfRange(rs[1], rs[1].length - DRIVERS_PART, rs[1].length), rest);
    }

    @ParameterizedTest(name = "seed {0}")
    @CsvSource({"11", "12", "13"})
    void bytesPutBack_comeFirst_beforeWhatTheTapStillHolds(long seed) throws Exception {
        byte[][] rs = rowsAndStream(seed, 50, false);
        // the driver reads 700 bytes through the tap (reads of up to 400: it refills on the way and keeps a rest),
        // then gives them all back, more than the tap's last read held before its rest
        JdbcCopy.Tap tap = new JdbcCopy.Tap(new Scripted(rs[1], seed, 400), new Socket());
        byte[] drivers = tap.readNBytes(700);
        assertEquals(700, drivers.length);
        tap.unread(drivers, 0, drivers.length);
        tap.startCopy();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(50, tap.copyData(out::write));
        assertArrayEquals(rs[0], out.toByteArray());
        // and the cheap path: put back what was just taken
        tap.unread(new byte[] {'c', 0, 0, 0, 4}, 0, 5);
        assertEquals('c', tap.read());
    }

    /** Where the 11th message's header starts in a scripted stream. */
    private static int eleventhMessage(byte[] stream) {
        int at = 0;
        for (int i = 0; i < 10; i++) {
            at += 1 + ByteBuffer.wrap(stream, at + 1, 4).getInt();
        }
        return at;
    }

    @Test
    void aStreamEndingInsideARow_isALostConnection_neverAShortCopy() throws Exception {
        byte[][] rs = rowsAndStream(12, 100, false);
        // the header of the 11th row and 1 byte of its payload, then the end
        byte[] cut = Arrays.copyOf(rs[1], eleventhMessage(rs[1]) + 6);
        JdbcCopy.Tap tap = new JdbcCopy.Tap(new Scripted(cut, 12, 1000), new Socket());
        tap.startCopy();
        SQLException e = assertThrows(SQLException.class, () -> tap.copyData((b, off, len) -> { }));
        assertEquals("08006", e.getSQLState());
    }

    @Test
    void aStreamEndingInsideAHeader_leavesThePartForTheDriver_whichFindsTheEnd() throws Exception {
        byte[][] rs = rowsAndStream(12, 100, false);
        int at = eleventhMessage(rs[1]);
        // 3 bytes of the 11th header, then the end: ten whole rows taken, the 3 bytes left for the driver's read
        byte[] cut = Arrays.copyOf(rs[1], at + 3);
        JdbcCopy.Tap tap = new JdbcCopy.Tap(new Scripted(cut, 12, 1000), new Socket());
        tap.startCopy();
        assertEquals(10, tap.copyData((b, off, len) -> { }));
        assertArrayEquals(Arrays.copyOfRange(rs[1], at, at + 3), tap.readAllBytes());
    }

    @Test
    void aLargeCopy_waitsAfterReadsThatEmptyTheSocket_onlyOnceUnderWay() throws Exception {
        byte[][] rs = rowsAndStream(13, 3000, false);
        Scripted socket = new Scripted(rs[1], 13, 65536);
        socket.emptiedByEachRead = true;
        JdbcCopy.Tap tap = new JdbcCopy.Tap(socket, new Socket());
        tap.startCopy();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        tap.copyData(out::write);
        assertArrayEquals(rs[0], out.toByteArray());
        // ~4.5 MB in reads of up to 64 KiB, the socket empty after each: no wait for the first MiB, then one per read
        assertTrue(tap.waits > 0, "waited: " + tap.waits);
        assertTrue(tap.waits < socket.reads, tap.waits + " waits, " + socket.reads + " reads");
        byte[][] small = rowsAndStream(14, 200, false);
        JdbcCopy.Tap shortTable = new JdbcCopy.Tap(new Scripted(small[1], 14, 4096), new Socket());
        shortTable.startCopy();
        shortTable.copyData((b, off, len) -> { });
        assertEquals(0, shortTable.waits, "a short COPY never waits");
    }

    @Test
    void aMalformedLength_isAProtocolError() {
        byte[] bad = {'d', 0, 0, 0, 2, 'x'};
        JdbcCopy.Tap tap = new JdbcCopy.Tap(new Scripted(bad, 15, 10), new Socket());
        SQLException e = assertThrows(SQLException.class, () -> tap.copyData((b, off, len) -> { }));
        assertEquals("08P01", e.getSQLState());
    }
}
