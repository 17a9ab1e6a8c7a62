package io.backupkit.cli;

import io.backupkit.ProgressEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressRendererTest {
    private static final long MIB = 1024 * 1024;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final StringWriter sink = new StringWriter();

    private ProgressRenderer renderer(ProgressRenderer.Mode mode) {
        return new ProgressRenderer(mode, new PrintWriter(sink, true), "backup", clock::get, TimeUnit.SECONDS.toNanos(2), 80);
    }

    private void advance(long millis) {
        clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    private static ProgressEvent progress(long read, long stored, long expected) {
        return new ProgressEvent(ProgressEvent.Kind.PROGRESS, "data-0001", read, stored, expected);
    }

    @Test
    void bar_showsPercentBytesRateAndEta_redrawnInPlace() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.BAR);
        advance(1000);
        r.onProgress(progress(25 * MIB, 5 * MIB, 100 * MIB));
        String out = sink.toString();
        assertTrue(out.startsWith("\rbackup ["), out);
        assertTrue(out.contains(" 25%"), out);
        assertTrue(out.contains("25.0 MiB/100 MiB"), out);
        assertTrue(out.contains("25.0 MiB/s"), out);
        // 75 MiB left at 25 MiB/s
        assertTrue(out.contains("ETA 0:03"), out);
        assertFalse(out.contains("\n"), "a bar never scrolls while running");
        assertTrue(out.length() <= 81, "fits the 80-column terminal: " + out.length());
    }

    @Test
    void bar_redrawsAtMostEvery100ms_andEndsWithNewlineOnClose() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.BAR);
        advance(10);
        r.onProgress(progress(MIB, 0, 10 * MIB));
        advance(10);
        r.onProgress(progress(2 * MIB, 0, 10 * MIB));
        assertEquals(1, count(sink.toString(), '\r'), "second event within 100 ms is not drawn");
        advance(200);
        r.onProgress(progress(10 * MIB, 0, 10 * MIB));
        assertEquals(2, count(sink.toString(), '\r'));
        r.succeeded();
        r.close();
        String out = sink.toString();
        assertTrue(out.endsWith("\n"), out);
        assertTrue(out.contains("100%"), out);
    }

    @Test
    void bar_withoutEstimate_showsBytesRateAndStreams() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.BAR);
        r.onProgress(new ProgressEvent(ProgressEvent.Kind.STREAM_STARTED, "pre-data", 0, 0, -1));
        advance(2000);
        r.onProgress(new ProgressEvent(ProgressEvent.Kind.STREAM_FINISHED, "pre-data", 4 * MIB, MIB, -1));
        String out = sink.toString();
        assertTrue(out.contains("4.0 MiB  2.0 MiB/s  stored 1.0 MiB  streams 1/1"), out);
        assertFalse(out.contains("ETA"), out);
    }

    @Test
    void plain_printsOneLinePerInterval_thenASummary() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.PLAIN);
        advance(1000);
        r.onProgress(progress(10 * MIB, 2 * MIB, 40 * MIB));
        assertEquals("", sink.toString(), "nothing before the first interval has passed");
        advance(1000);
        r.onProgress(progress(20 * MIB, 2 * MIB, 40 * MIB));
        for (int i = 1; i <= 10; i++) {
            advance(300); // 3 s more: exactly one more line, at the 4 s mark
            r.onProgress(progress((20 + i) * MIB, 2 * MIB, 40 * MIB));
        }
        r.succeeded();
        r.close();
        String[] lines = sink.toString().split("\n");
        assertEquals(3, lines.length, sink.toString());
        assertEquals("backup: 20.0 MiB of 40.0 MiB (50%), 10.0 MiB/s, 2.0 MiB stored, ETA 0:02", lines[0]);
        assertTrue(lines[1].startsWith("backup: 27.0 MiB of 40.0 MiB (68%)"), lines[1]);
        assertTrue(lines[2].startsWith("backup: done, 30.0 MiB in 5.0 s (6.0 MiB/s), 2.0 MiB stored"), lines[2]);
        assertFalse(sink.toString().contains("\r"), "no carriage returns in logs");
    }

    @Test
    void afterAFailure_noSummary_andTheBarLineIsEnded() {
        ProgressRenderer plain = renderer(ProgressRenderer.Mode.PLAIN);
        plain.onProgress(progress(MIB, 0, 10 * MIB));
        plain.close();
        assertEquals("", sink.toString(), "no 'done' line for a failed operation");

        ProgressRenderer bar = renderer(ProgressRenderer.Mode.BAR);
        bar.onProgress(progress(MIB, 0, 10 * MIB));
        bar.close();
        assertTrue(sink.toString().endsWith("\n"), "the error message starts on its own line");
        assertEquals(1, count(sink.toString(), '\r'), "not redrawn");
    }

    @Test
    void none_printsNothing() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.NONE);
        r.onProgress(progress(MIB, MIB, MIB));
        r.close();
        assertEquals("", sink.toString());
    }

    @Test
    void eta_isZeroWhenDone_andUnknownWithoutRate() {
        ProgressRenderer r = renderer(ProgressRenderer.Mode.PLAIN);
        r.expectedBytes(10 * MIB);
        assertFalse(r.plainLine(clock.get()).contains("ETA"), "no rate yet, no ETA");
        advance(1000);
        r.onProgress(progress(12 * MIB, 0, -1));
        assertTrue(r.plainLine(clock.get()).contains("(100%)"));
        assertTrue(r.plainLine(clock.get()).endsWith("ETA 0:00"));
    }

    @ParameterizedTest
    @CsvSource({"0.0,12,[>         ]", "0.5,12,[=====>    ]", "1.0,12,[==========]", "1.7,7,[=====]", "-1,4,[> ]"})
    void bar_fillsProportionally(double fraction, int width, String expected) {
        assertEquals(expected, ProgressRenderer.bar(fraction, width));
        assertEquals(width, ProgressRenderer.bar(fraction, width).length());
    }

    private static int count(String s, char c) {
        return (int) s.chars().filter(x -> x == c).count();
    }
}
