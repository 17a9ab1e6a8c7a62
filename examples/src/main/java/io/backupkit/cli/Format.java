package io.backupkit.cli;

import java.time.Duration;
import java.util.Locale;

/** Human-readable figures: sizes in IEC units, durations, rates, ratios. */
final class Format {
    private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Format() {
    }

    static String bytes(long bytes) {
        if (bytes < 0) {
            return "?";
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        int unit = 0;
        while (v >= 1024 && unit < UNITS.length - 1) {
            v /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, v >= 100 ? "%.0f %s" : "%.1f %s", v, UNITS[unit]);
    }

    static String rate(double bytesPerSecond) {
        if (Double.isNaN(bytesPerSecond) || Double.isInfinite(bytesPerSecond) || bytesPerSecond < 0) {
            return "? B/s";
        }
        return bytes((long) bytesPerSecond) + "/s";
    }

    static String duration(Duration d) {
        return millis(d.toMillis());
    }

    static String millis(long ms) {
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms < 60_000) {
            return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
    }

    /** Compact clock form for ETAs: "0:07", "12:30", "1:02:03". */
    static String clock(long seconds) {
        if (seconds < 0) {
            return "--:--";
        }
        if (seconds >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", seconds / 3600, (seconds % 3600) / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
    }

    static String ratio(double ratio) {
        if (Double.isInfinite(ratio) || Double.isNaN(ratio)) {
            return "all deduplicated";
        }
        return String.format(Locale.ROOT, ratio >= 100 ? "%.0fx" : "%.1fx", ratio);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.0f%%", fraction * 100);
    }
}
