package io.backupkit.cli;

import io.backupkit.ConfigurationException;
import io.backupkit.RetentionPolicy;
import picocli.CommandLine.Option;

import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The --keep-* options of forget, parsed into a {@link RetentionPolicy}; nonsense values are named. */
final class KeepOptions {
    @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest snapshots.")
    String last;

    @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest snapshot of each of the last N hours that have one.")
    String hourly;

    @Option(names = "--keep-daily", paramLabel = "N", description = "… of each of the last N days that have one.")
    String daily;

    @Option(names = "--keep-weekly", paramLabel = "N", description = "… of each of the last N ISO weeks (Monday to Sunday) that have one.")
    String weekly;

    @Option(names = "--keep-monthly", paramLabel = "N", description = "… of each of the last N months that have one.")
    String monthly;

    @Option(names = "--keep-yearly", paramLabel = "N", description = "… of each of the last N years that have one. N may be 'unlimited'.")
    String yearly;

    @Option(names = "--keep-within", paramLabel = "DURATION",
            description = "Keep every snapshot within DURATION of the newest one: years, months, days, hours, e.g. 7d, 36h, 1y6m.")
    String within;

    @Option(names = "--pitr-window", paramLabel = "DURATION",
            description = "Keep point-in-time recovery possible to any moment of the last DURATION (days, hours: 7d, 36h, 1d12h): "
                    + "the newest base backup taken before the window's start stays, and the WAL from it on.")
    String pitrWindow;

    @Option(names = "--keep-tag", paramLabel = "K=V", description = "Keep every snapshot tagged K=V (K=V,K2=V2: all of them; repeatable: any).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--zone", paramLabel = "ZONE", description = "Time zone of hours, days, weeks, months and years (default UTC), e.g. Europe/Berlin.")
    String zone;

    @Option(names = "--group-by", paramLabel = "KEYS", split = ",",
            description = "Apply the policy per group of: engine, source, database, host, tags (default engine,source,database); '' for one group.")
    List<String> groupBy;

    private static int count(String option, String value) {
        if (value == null) {
            return 0;
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("unlimited") || v.equals("all")) {
            return RetentionPolicy.UNLIMITED;
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ConfigurationException(option + " takes a number or 'unlimited', was '" + value + "'");
        }
        if (n < 0) {
            throw new ConfigurationException(option + " must be 0 or more (or 'unlimited'), was " + n);
        }
        return n;
    }

    /** "7d", "36h", "1d12h" (or ISO-8601, "PT36H"). */
    static java.time.Duration window(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?").matcher(v);
        try {
            java.time.Duration d;
            if (!v.isEmpty() && m.matches()) {
                d = java.time.Duration.ofDays(m.group(1) == null ? 0 : Long.parseLong(m.group(1)))
                        .plusHours(m.group(2) == null ? 0 : Long.parseLong(m.group(2)));
            } else {
                d = java.time.Duration.parse(value.trim().toUpperCase(Locale.ROOT));
            }
            if (d.isZero() || d.isNegative()) {
                throw new ConfigurationException("--pitr-window must be longer than zero, was '" + value + "'");
            }
            return d;
        } catch (java.time.format.DateTimeParseException | ArithmeticException | NumberFormatException e) {
            throw new ConfigurationException("--pitr-window takes days and hours (7d, 36h, 1d12h), was '" + value + "'");
        }
    }

    RetentionPolicy policy() {
        RetentionPolicy.Builder b = RetentionPolicy.builder().keepLast(count("--keep-last", last)).keepHourly(count("--keep-hourly", hourly))
                .keepDaily(count("--keep-daily", daily)).keepWeekly(count("--keep-weekly", weekly))
                .keepMonthly(count("--keep-monthly", monthly)).keepYearly(count("--keep-yearly", yearly));
        if (within != null) {
            try {
                b.keepWithin(within);
            } catch (ConfigurationException e) {
                throw new ConfigurationException("--keep-within: " + e.getMessage());
            }
        }
        if (pitrWindow != null) {
            b.pitrWindow(window(pitrWindow));
        }
        for (String t : tags) {
            try {
                b.keepTag(t);
            } catch (ConfigurationException e) {
                throw new ConfigurationException("--keep-tag: " + e.getMessage());
            }
        }
        if (zone != null) {
            try {
                b.zone(ZoneId.of(zone));
            } catch (DateTimeException e) {
                throw new ConfigurationException("--zone: '" + zone + "' is not a time zone (e.g. UTC, Europe/Berlin, America/New_York)");
            }
        }
        if (groupBy != null) {
            List<RetentionPolicy.GroupBy> keys = new ArrayList<>();
            for (String g : groupBy) {
                if (g.isBlank()) {
                    continue;
                }
                try {
                    keys.add(RetentionPolicy.GroupBy.valueOf(g.trim().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new ConfigurationException("--group-by: '" + g + "' is not one of engine, source, database, host, tags");
                }
            }
            b.groupBy(keys.toArray(RetentionPolicy.GroupBy[]::new));
        }
        return b.build();
    }
}
