package io.backupkit.cli;

import io.backupkit.ProgressEvent;
import io.backupkit.ProgressListener;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Shows progress on stderr: a redrawn bar with bytes, rate and ETA on a terminal, plain lines every
 * few seconds otherwise (logs, CI), nothing with {@code --json}. Thread-safe: the pipeline calls it from
 * worker threads.
 */
final class ProgressRenderer implements ProgressListener, AutoCloseable {

    enum Mode {
        /** A single line redrawn in place (terminals). */
        BAR,
        /** A new line every interval and one at the end (pipes, files, CI logs). */
        PLAIN,
        NONE
    }

    private static final long BAR_REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Mode mode;
    private final PrintWriter err;
    private final String label;
    private final LongSupplier nanoClock;
    private final long plainIntervalNanos;
    private final int width;
    private final long started;

    private long bytes;
    private long stored;
    private long expected = -1;
    private int streamsStarted;
    private int streamsFinished;
    private long lastDraw = Long.MIN_VALUE;
    private boolean drawn;
    private int lastLength;
    private boolean closed;
    private boolean succeeded;

    ProgressRenderer(Mode mode, PrintWriter err, String label, LongSupplier nanoClock, long plainIntervalNanos, int width) {
        this.mode = mode;
        this.err = err;
        this.label = label;
        this.nanoClock = nanoClock;
        this.plainIntervalNanos = plainIntervalNanos;
        this.width = width;
        this.started = nanoClock.getAsLong();
    }

    static ProgressRenderer forTerminal(Terminal terminal, Mode mode, String label) {
        return new ProgressRenderer(mode, terminal.err, label, System::nanoTime, TimeUnit.SECONDS.toNanos(2), terminal.columns());
    }

    /** A renderer that shows nothing. */
    static ProgressRenderer none() {
        return new ProgressRenderer(Mode.NONE, new PrintWriter(java.io.OutputStream.nullOutputStream()), "", System::nanoTime, 1, 80);
    }

    /** Seeds the total before events arrive (a restore knows its size from the plan). */
    synchronized void expectedBytes(long total) {
        this.expected = total;
    }

    @Override
    public synchronized void onProgress(ProgressEvent e) {
        if (mode == Mode.NONE || closed) {
            return;
        }
        bytes = Math.max(bytes, e.bytesRead());
        stored = Math.max(stored, e.bytesStored());
        if (e.expectedBytes() >= 0) {
            expected = e.expectedBytes();
        }
        if (e.kind() == ProgressEvent.Kind.STREAM_STARTED) {
            streamsStarted++;
        } else if (e.kind() == ProgressEvent.Kind.STREAM_FINISHED) {
            streamsFinished++;
        }
        long now = nanoClock.getAsLong();
        if (mode == Mode.BAR) {
            if (!drawn || now - lastDraw >= BAR_REDRAW_NANOS) {
                drawBar(now);
            }
        } else if (now - (drawn ? lastDraw : started) >= plainIntervalNanos) {
            // one line per interval, the first after one interval: short runs log only their summary
            err.println(plainLine(now));
            err.flush();
            drawn = true;
            lastDraw = now;
        }
    }

    private void drawBar(long now) {
        String line = barLine(now);
        // pad over the rest of a longer previous line instead of relying on terminal escapes
        String pad = line.length() < lastLength ? " ".repeat(lastLength - line.length()) : "";
        err.print("\r" + line + pad);
        err.flush();
        lastLength = line.length();
        drawn = true;
        lastDraw = now;
    }

    /** Marks the operation as done; {@link #close()} then shows the final figures. */
    synchronized void succeeded() {
        this.succeeded = true;
    }

    /**
     * Ends the display. After {@link #succeeded()} the bar is drawn once more at its final value and
     * plain mode prints a summary line; after a failure the bar line is just ended, so the error
     * message that follows starts on its own line.
     */
    @Override
    public synchronized void close() {
        if (closed || mode == Mode.NONE) {
            closed = true;
            return;
        }
        long now = nanoClock.getAsLong();
        if (mode == Mode.BAR) {
            if (drawn) {
                if (succeeded) {
                    drawBar(now);
                }
                err.println();
            }
        } else if (succeeded) {
            err.println(String.format(Locale.ROOT, "%s: done, %s in %s (%s)%s", label, Format.bytes(bytes),
                    Format.millis(TimeUnit.NANOSECONDS.toMillis(now - started)), Format.rate(rate(now)),
                    stored > 0 ? ", " + Format.bytes(stored) + " stored" : ""));
        }
        err.flush();
        closed = true;
    }

    private double rate(long now) {
        double seconds = (now - started) / 1e9;
        return seconds <= 0 ? 0 : bytes / seconds;
    }

    /** Seconds left at the average rate so far, or -1 when unknown. */
    private long etaSeconds(long now) {
        double r = rate(now);
        if (expected <= 0 || r <= 0 || bytes >= expected) {
            return expected > 0 && bytes >= expected ? 0 : -1;
        }
        return (long) Math.ceil((expected - bytes) / r);
    }

    String barLine(long now) {
        StringBuilder tail = new StringBuilder();
        if (expected > 0) {
            double f = Math.min(1.0, (double) bytes / expected);
            tail.append(String.format(Locale.ROOT, " %4s  %s/%s  %s  ETA %s", Format.percent(f), Format.bytes(bytes),
                    Format.bytes(expected), Format.rate(rate(now)), Format.clock(etaSeconds(now))));
            int barWidth = Math.max(10, width - label.length() - tail.length() - 4);
            return label + " " + bar(f, barWidth) + tail;
        }
        tail.append(String.format(Locale.ROOT, "  %s  %s", Format.bytes(bytes), Format.rate(rate(now))));
        if (stored > 0) {
            tail.append("  stored ").append(Format.bytes(stored));
        }
        if (streamsStarted > 0) {
            tail.append("  streams ").append(streamsFinished).append('/').append(streamsStarted);
        }
        return label + tail;
    }

    String plainLine(long now) {
        StringBuilder sb = new StringBuilder(label).append(": ").append(Format.bytes(bytes));
        if (expected > 0) {
            sb.append(" of ").append(Format.bytes(expected))
                    .append(" (").append(Format.percent(Math.min(1.0, (double) bytes / expected))).append(')');
        }
        sb.append(", ").append(Format.rate(rate(now)));
        if (stored > 0) {
            sb.append(", ").append(Format.bytes(stored)).append(" stored");
        }
        if (streamsStarted > 0) {
            sb.append(", streams ").append(streamsFinished).append('/').append(streamsStarted).append(" done");
        }
        long eta = etaSeconds(now);
        if (eta >= 0) {
            sb.append(", ETA ").append(Format.clock(eta));
        }
        return sb.toString();
    }

    /** "[=======>      ]" of {@code width} characters for {@code fraction} in [0, 1]. */
    static String bar(double fraction, int width) {
        int inner = Math.max(1, width - 2);
        int filled = (int) Math.floor(Math.max(0, Math.min(1, fraction)) * inner);
        StringBuilder sb = new StringBuilder(width).append('[');
        sb.append("=".repeat(filled));
        if (filled < inner) {
            sb.append('>').append(" ".repeat(inner - filled - 1));
        }
        return sb.append(']').toString();
    }
}
