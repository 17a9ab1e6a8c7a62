package io.backupkit.postgres.internal;

import io.backupkit.IntegrityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CopyStreamsTest {

    /** A COPY-text-like line: escaped backslashes, tabs, high bytes; never exactly "\." */
    private static byte[] randomLine(Random rnd) {
        String[] pieces = {"\\\\.", "\\\\", ".", "\\N", "\t", "x", "é", "\\\\.\\\\.", "abc", "\\t", "\u00ff"};
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            sb.append(pieces[rnd.nextInt(pieces.length)]);
        }
        sb.append('\n');
        return sb.toString().getBytes(rnd.nextBoolean() ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    }

    /** An input stream that returns short reads of random length, to cross every buffer boundary. */
    private static InputStream dribble(byte[] data, Random rnd) {
        return new InputStream() {
            private int pos;

            @Override
            public int read() {
                return pos < data.length ? data[pos++] & 0xff : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= data.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, 1 + rnd.nextInt(7)), data.length - pos);
                System.arraycopy(data, pos, b, off, n);
                pos += n;
                return n;
            }
        };
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void segmentsAndRowCounts_survivePiecewiseReads(long seed) throws IOException {
        Random rnd = new Random(seed);
        List<byte[]> segments = new ArrayList<>();
        List<Long> rows = new ArrayList<>();
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int tables = 1 + rnd.nextInt(8);
        for (int t = 0; t < tables; t++) {
            ByteArrayOutputStream seg = new ByteArrayOutputStream();
            int lines = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(200);
            for (int l = 0; l < lines; l++) {
                seg.writeBytes(randomLine(rnd));
            }
            segments.add(seg.toByteArray());
            rows.add((long) lines);
            all.writeBytes(seg.toByteArray());
            all.writeBytes("\\.\n".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] data = all.toByteArray();

        CopyStreams.Counter counter = new CopyStreams.Counter();
        int p = 0;
        while (p < data.length) {
            int n = Math.min(data.length - p, 1 + rnd.nextInt(5));
            counter.update(data, p, n);
            p += n;
        }
        assertEquals(rows, counter.segments());
        assertEquals(0, counter.openRows());
        // pieces as large as a pipe read, so the word-at-a-time scan runs over every alignment
        CopyStreams.Counter big = new CopyStreams.Counter();
        for (int q = 0; q < data.length; ) {
            int n = Math.min(data.length - q, 1 + rnd.nextInt(4096));
            big.update(data, q, n);
            q += n;
        }
        assertEquals(rows, big.segments());
        assertEquals(0, big.openRows());

        CopyStreams.SegmentReader reader = new CopyStreams.SegmentReader(dribble(data, rnd), "data-0001");
        for (int t = 0; t < tables; t++) {
            byte[] got = rnd.nextBoolean() ? reader.nextSegment().readAllBytes() : readByteByByte(reader.nextSegment());
            assertArrayEquals(segments.get(t), got, "segment " + t + " of seed " + seed);
        }
        assertTrue(reader.atEnd());
    }

    /** The word-at-a-time search finds exactly the first newline, at every offset and alignment. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void indexOfNewline_equalsALinearSearch(long seed) {
        Random rnd = new Random(seed);
        byte[] b = new byte[300];
        for (int round = 0; round < 2000; round++) {
            rnd.nextBytes(b);
            for (int i = 0; i < b.length; i++) {
                // mostly bytes next to 0x0A (0x09, 0x0B, 0x8A…) that a sloppy bit trick would confuse with it
                if (b[i] == '\n' && rnd.nextInt(8) != 0) {
                    b[i] = (byte) (rnd.nextBoolean() ? 0x0B : 0x8A);
                }
            }
            int from = rnd.nextInt(b.length);
            int to = from + rnd.nextInt(b.length - from + 1);
            int expected = -1;
            for (int i = from; i < to; i++) {
                if (b[i] == '\n') {
                    expected = i;
                    break;
                }
            }
            assertEquals(expected, CopyStreams.indexOfNewline(b, from, to), "from " + from + " to " + to);
        }
    }

    private static byte[] readByteByByte(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            out.write(b);
        }
        return out.toByteArray();
    }

    @Test
    void aStreamCutInsideATable_isAnIntegrityError_notAShortTable() {
        byte[] data = "1\ta\n2\tb\n\\.\n3\tc\n".getBytes(StandardCharsets.US_ASCII);
        CopyStreams.SegmentReader reader = new CopyStreams.SegmentReader(new ByteArrayInputStream(data), "data-0002");
        assertEquals("1\ta\n2\tb\n", new String(assertDoesNotThrowRead(reader.nextSegment()), StandardCharsets.US_ASCII));
        IntegrityException e = assertThrows(IntegrityException.class, () -> reader.nextSegment().readAllBytes());
        assertTrue(e.getMessage().contains("data-0002"), e.getMessage());
    }

    @Test
    void backslashDotInsideData_isNotAMarker() throws IOException {
        // "\\." is an escaped backslash followed by a dot; "x\." cannot start a line
        byte[] data = "\\\\.\n\\\\.\\.\nx\\.\n\\.\n".getBytes(StandardCharsets.US_ASCII);
        CopyStreams.Counter counter = new CopyStreams.Counter();
        counter.update(data, 0, data.length);
        assertEquals(List.of(3L), counter.segments());
        CopyStreams.SegmentReader reader = new CopyStreams.SegmentReader(new ByteArrayInputStream(data), "s");
        assertArrayEquals(Arrays.copyOf(data, data.length - 3), reader.nextSegment().readAllBytes());
    }

    private static byte[] assertDoesNotThrowRead(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
