package io.backupkit;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which snapshots to keep, with the semantics of restic's {@code forget}: the rules are combined by
 * union (a snapshot is kept when any rule keeps it), and each calendar rule keeps the newest snapshot of
 * each of the last N periods <em>that have a snapshot</em> (empty periods do not count). Calendar
 * periods are evaluated in an explicit time zone (default UTC); weeks are ISO weeks (Monday to Sunday,
 * week-based years, so 31 December can be in week 1 and 1 January in week 53). {@code keepWithin} is
 * measured back from the newest snapshot (not from now), ignoring snapshots dated in the future. When a
 * calendar rule still has periods left after the oldest snapshot, that oldest snapshot is kept too
 * (restic 0.17+: "oldest daily snapshot"). Policies apply to each group of snapshots separately (by
 * default engine, source and database), so one database's backups never push out another's.
 *
 * <pre>{@code
 * RetentionPolicy policy = RetentionPolicy.builder()
 *         .keepLast(3).keepDaily(7).keepWeekly(5).keepMonthly(12).keepYearly(-1)   // -1: unlimited
 *         .keepWithin("2d")
 *         .keepTag("keep", "forever")
 *         .zone(ZoneId.of("Europe/Berlin"))
 *         .build();
 * RetentionPlan plan = policy.apply(repo.snapshots().summaries());
 * }</pre>
 */
public final class RetentionPolicy {
    /** As a count: keep one snapshot of every period, however many. */
    public static final int UNLIMITED = -1;

    /** What snapshots are grouped by before the rules apply. */
    public enum GroupBy { ENGINE, SOURCE, DATABASE, HOST, TAGS }

    /**
     * A calendar duration as restic writes it ({@code 2y5m7d3h}): subtracted from the newest snapshot's
     * time like Go's {@code AddDate(-y, -m, -d)} then {@code h} hours (31 March minus one month is 3 March).
     */
    public record Within(int years, int months, int days, int hours) {
        private static final Pattern FORMAT = Pattern.compile("(?:(\\d+)y)?(?:(\\d+)m)?(?:(\\d+)d)?(?:(\\d+)h)?");

        public Within {
            if (years < 0 || months < 0 || days < 0 || hours < 0) {
                throw new ConfigurationException("keep-within parts must not be negative: " + years + "y" + months + "m" + days + "d"
                        + hours + "h");
            }
        }

        /** Parses {@code 1y2m3d4h} (each part optional, at least one). */
        public static Within parse(String text) {
            String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
            Matcher m = FORMAT.matcher(t);
            if (t.isEmpty() || !m.matches()) {
                throw new ConfigurationException("'" + text + "' is not a keep-within duration: write years, months, days and hours "
                        + "like 7d, 36h, 1y6m or 2y5m7d3h");
            }
            try {
                return new Within(part(m, 1), part(m, 2), part(m, 3), part(m, 4));
            } catch (NumberFormatException e) {
                throw new ConfigurationException("'" + text + "' is not a keep-within duration: a number is too large");
            }
        }

        private static int part(Matcher m, int g) {
            return m.group(g) == null ? 0 : Integer.parseInt(m.group(g));
        }

        boolean isZero() {
            return years == 0 && months == 0 && days == 0 && hours == 0;
        }

        /** The earliest time still "within", counted back from {@code latest} in {@code zone}. */
        Instant before(Instant latest, ZoneId zone) {
            ZonedDateTime z = latest.atZone(zone);
            // Go's AddDate: subtract years and months, normalizing the month, then let day overflow roll over
            long monthIndex = (long) z.getYear() * 12 + (z.getMonthValue() - 1) - (long) years * 12 - months;
            int year = (int) Math.floorDiv(monthIndex, 12);
            int month = (int) Math.floorMod(monthIndex, 12) + 1;
            LocalDate date = LocalDate.of(year, month, 1).plusDays(z.getDayOfMonth() - 1L - days);
            LocalDateTime local = LocalDateTime.of(date, z.toLocalTime());
            // a wall time that occurs twice (DST ends) is taken at its earlier offset
            return ZonedDateTime.ofLocal(local, zone, null).toInstant().minus(Duration.ofHours(hours));
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            if (years > 0) {
                sb.append(years).append('y');
            }
            if (months > 0) {
                sb.append(months).append('m');
            }
            if (days > 0) {
                sb.append(days).append('d');
            }
            if (hours > 0 || sb.length() == 0) {
                sb.append(hours).append('h');
            }
            return sb.toString();
        }
    }

    private final int last;
    private final int hourly;
    private final int daily;
    private final int weekly;
    private final int monthly;
    private final int yearly;
    private final Within within;
    private final List<Map<String, String>> keepTags;
    private final ZoneId zone;
    private final Set<GroupBy> groupBy;
    private final Duration pitrWindow;

    private RetentionPolicy(Builder b) {
        this.last = b.last;
        this.hourly = b.hourly;
        this.daily = b.daily;
        this.weekly = b.weekly;
        this.monthly = b.monthly;
        this.yearly = b.yearly;
        this.within = b.within == null || b.within.isZero() ? null : b.within;
        this.keepTags = b.keepTags.stream().map(Map::copyOf).toList();
        this.zone = b.zone;
        this.groupBy = Set.copyOf(b.groupBy);
        this.pitrWindow = b.pitrWindow;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().keepLast(last).keepHourly(hourly).keepDaily(daily).keepWeekly(weekly).keepMonthly(monthly)
                .keepYearly(yearly).zone(zone).groupBy(groupBy.toArray(GroupBy[]::new));
        b.within = within;
        b.pitrWindow = pitrWindow;
        keepTags.forEach(t -> b.keepTags.add(t));
        return b;
    }

    public int keepLast() {
        return last;
    }

    public int keepHourly() {
        return hourly;
    }

    public int keepDaily() {
        return daily;
    }

    public int keepWeekly() {
        return weekly;
    }

    public int keepMonthly() {
        return monthly;
    }

    public int keepYearly() {
        return yearly;
    }

    /** The keep-within duration, or null. */
    public Within keepWithin() {
        return within;
    }

    /** Tag sets: a snapshot having every tag of any one set is kept. */
    public List<Map<String, String>> keepTags() {
        return keepTags;
    }

    public ZoneId zone() {
        return zone;
    }

    public Set<GroupBy> groupBy() {
        return groupBy;
    }

    /** The point-in-time recovery window, or null. */
    public Duration pitrWindow() {
        return pitrWindow;
    }

    /** True when no rule is given: such a policy keeps nothing and is refused by forget. */
    public boolean isEmpty() {
        return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && within == null
                && keepTags.isEmpty() && pitrWindow == null;
    }

    /** The policy in words, e.g. "keep 2 latest, 7 daily snapshots and all snapshots within 2d of the newest". */
    public String describe() {
        List<String> counts = new ArrayList<>();
        addCount(counts, last, "latest");
        addCount(counts, hourly, "hourly");
        addCount(counts, daily, "daily");
        addCount(counts, weekly, "weekly");
        addCount(counts, monthly, "monthly");
        addCount(counts, yearly, "yearly");
        List<String> parts = new ArrayList<>();
        if (!counts.isEmpty()) {
            parts.add(String.join(", ", counts) + " snapshots");
        }
        if (!keepTags.isEmpty()) {
            parts.add("all snapshots tagged " + keepTags.stream().map(RetentionPolicy::tagText).toList());
        }
        if (within != null) {
            parts.add("all snapshots within " + within + " of the newest");
        }
        if (pitrWindow != null) {
            parts.add("the base of a " + pitrWindow.toHours() + " h point-in-time recovery window");
        }
        String zoneName = zone.normalized().equals(ZoneOffset.UTC) ? "UTC" : zone.getId();
        return parts.isEmpty() ? "keep nothing" : "keep " + String.join(" and ", parts) + " (" + zoneName + ")";
    }

    private static void addCount(List<String> out, int count, String what) {
        if (count > 0) {
            out.add(count + " " + what);
        } else if (count == UNLIMITED) {
            out.add("all " + what);
        }
    }

    static String tagText(Map<String, String> tags) {
        return tags.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue())
                .reduce((a, b) -> a + "," + b).orElse("");
    }

    /** The group key of a snapshot under this policy's grouping. */
    public Map<String, String> groupKey(SnapshotSummary s) {
        Map<String, String> key = new TreeMap<>();
        for (GroupBy g : groupBy) {
            switch (g) {
                case ENGINE -> key.put("engine", s.engine());
                case SOURCE -> key.put("source", s.source());
                case DATABASE -> key.put("database", s.database());
                case HOST -> key.put("host", s.hostname());
                case TAGS -> key.put("tags", tagText(s.tags()));
                default -> throw new IllegalStateException(g.name());
            }
        }
        return key;
    }

    /** Applies the policy to every group, now. */
    public RetentionPlan apply(Collection<SnapshotSummary> snapshots) {
        return apply(snapshots, Instant.now());
    }

    /**
     * Applies the policy to every group.
     *
     * @param now snapshots after this time are "in the future": they never define the newest for keepWithin
     */
    public RetentionPlan apply(Collection<SnapshotSummary> snapshots, Instant now) {
        Map<Map<String, String>, List<SnapshotSummary>> groups = new LinkedHashMap<>();
        snapshots.stream().sorted(Comparator.comparing(SnapshotSummary::time).thenComparing(SnapshotSummary::id))
                .forEach(s -> groups.computeIfAbsent(groupKey(s), k -> new ArrayList<>()).add(s));
        List<RetentionPlan.Group> out = new ArrayList<>();
        groups.forEach((key, list) -> out.add(applyToGroup(key, list, now)));
        return new RetentionPlan(this, out);
    }

    private static final class Rule {
        final String reason;
        final java.util.function.Function<ZonedDateTime, Long> bucket;
        int count;
        Long lastBucket;

        Rule(String reason, int count, java.util.function.Function<ZonedDateTime, Long> bucket) {
            this.reason = reason;
            this.count = count;
            this.bucket = bucket;
        }
    }

    private RetentionPlan.Group applyToGroup(Map<String, String> key, List<SnapshotSummary> oldestFirst, Instant now) {
        List<SnapshotSummary> list = new ArrayList<>(oldestFirst);
        // newest first; among equal times the higher id first (any fixed order would do)
        list.sort(Comparator.comparing(SnapshotSummary::time).thenComparing(SnapshotSummary::id).reversed());
        Instant latest = null;
        for (SnapshotSummary s : list) {
            if (s.time().isBefore(now) && (latest == null || s.time().isAfter(latest))) {
                latest = s.time();
            }
        }
        Instant withinFrom = within == null ? null : within.before(latest == null ? Instant.EPOCH : latest, zone);
        long[] counter = {0};
        List<Rule> rules = List.of(
                new Rule("last snapshot", last, t -> counter[0]),
                new Rule("hourly snapshot", hourly, t -> (long) t.getYear() * 1_000_000 + t.getMonthValue() * 10_000L
                        + t.getDayOfMonth() * 100L + t.getHour()),
                new Rule("daily snapshot", daily, t -> (long) t.getYear() * 10_000 + t.getMonthValue() * 100L + t.getDayOfMonth()),
                new Rule("weekly snapshot", weekly, t -> (long) t.get(IsoFields.WEEK_BASED_YEAR) * 100
                        + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)),
                new Rule("monthly snapshot", monthly, t -> (long) t.getYear() * 100 + t.getMonthValue()),
                new Rule("yearly snapshot", yearly, t -> (long) t.getYear()));
        // the snapshot a recovery to the start of the window starts from: the newest at or before that start,
        // or the oldest when every snapshot is newer (recovery then reaches as far back as it can)
        String pitrBase = null;
        if (pitrWindow != null && !list.isEmpty()) {
            Instant windowStart = now.minus(pitrWindow);
            pitrBase = list.stream().filter(s -> !s.time().isAfter(windowStart)).findFirst()
                    .orElse(list.get(list.size() - 1)).id();
        }
        List<RetentionPlan.Kept> keep = new ArrayList<>();
        List<SnapshotSummary> remove = new ArrayList<>();
        for (int nr = 0; nr < list.size(); nr++) {
            SnapshotSummary cur = list.get(nr);
            ZonedDateTime t = cur.time().atZone(zone);
            counter[0] = nr;
            List<String> reasons = new ArrayList<>();
            for (Map<String, String> tags : keepTags) {
                if (tags.entrySet().stream().allMatch(e -> e.getValue().equals(cur.tags().get(e.getKey())))) {
                    reasons.add("tagged " + tagText(tags));
                }
            }
            if (withinFrom != null && cur.time().isAfter(withinFrom)) {
                reasons.add("within " + within);
            }
            if (cur.id().equals(pitrBase)) {
                reasons.add("base of the point-in-time recovery window");
            }
            boolean oldest = nr == list.size() - 1;
            for (Rule r : rules) {
                if (r.count > 0 || r.count == UNLIMITED) {
                    long b = r.bucket.apply(t);
                    boolean newPeriod = r.lastBucket == null || r.lastBucket != b;
                    if (newPeriod || oldest) {
                        reasons.add(!newPeriod ? "oldest " + r.reason : r.reason);
                        r.lastBucket = b;
                        if (r.count > 0) {
                            r.count--;
                        }
                    }
                }
            }
            if (reasons.isEmpty()) {
                remove.add(cur);
            } else {
                keep.add(new RetentionPlan.Kept(cur, List.copyOf(reasons)));
            }
        }
        // report oldest first, like listings
        java.util.Collections.reverse(keep);
        java.util.Collections.reverse(remove);
        return new RetentionPlan.Group(java.util.Collections.unmodifiableMap(new TreeMap<>(key)), List.copyOf(keep), List.copyOf(remove));
    }

    /** Builds a {@link RetentionPolicy}; counts are 0 (rule off), a positive number, or {@link #UNLIMITED}. */
    public static final class Builder {
        private int last;
        private int hourly;
        private int daily;
        private int weekly;
        private int monthly;
        private int yearly;
        private Within within;
        private final List<Map<String, String>> keepTags = new ArrayList<>();
        private ZoneId zone = ZoneOffset.UTC;
        private Set<GroupBy> groupBy = EnumSet.of(GroupBy.ENGINE, GroupBy.SOURCE, GroupBy.DATABASE);
        private Duration pitrWindow;

        private Builder() {
        }

        /**
         * Keep what recovery to any point in the last {@code window} needs: besides what the other rules keep,
         * the newest snapshot taken at or before now minus the window (a recovery to the window's start starts
         * from it), or the oldest one when all are newer. Meant for physical backups, whose log archive
         * (WAL) retention then keeps the log from the oldest retained base backup's start onwards.
         */
        public Builder pitrWindow(Duration window) {
            if (window != null && (window.isNegative() || window.isZero())) {
                throw new ConfigurationException("the point-in-time recovery window must be positive, was " + window);
            }
            this.pitrWindow = window;
            return this;
        }

        private static int count(String rule, int n) {
            if (n < UNLIMITED) {
                throw new ConfigurationException(rule + " must be 0 or more, or unlimited (-1), was " + n);
            }
            return n;
        }

        /** Keep the newest {@code n} snapshots. */
        public Builder keepLast(int n) {
            this.last = count("keep-last", n);
            return this;
        }

        /** Keep the newest snapshot of each of the last {@code n} hours that have one. */
        public Builder keepHourly(int n) {
            this.hourly = count("keep-hourly", n);
            return this;
        }

        public Builder keepDaily(int n) {
            this.daily = count("keep-daily", n);
            return this;
        }

        /** ISO weeks, Monday to Sunday. */
        public Builder keepWeekly(int n) {
            this.weekly = count("keep-weekly", n);
            return this;
        }

        public Builder keepMonthly(int n) {
            this.monthly = count("keep-monthly", n);
            return this;
        }

        public Builder keepYearly(int n) {
            this.yearly = count("keep-yearly", n);
            return this;
        }

        /** Keep every snapshot within this duration of the newest one ({@code 7d}, {@code 1y6m}, {@code 36h}). */
        public Builder keepWithin(String duration) {
            this.within = Within.parse(duration);
            return this;
        }

        /** Keep every snapshot within this duration (whole hours) of the newest one. */
        public Builder keepWithin(Duration duration) {
            if (duration.isNegative()) {
                throw new ConfigurationException("keep-within must not be negative, was " + duration);
            }
            long hours = duration.toHours();
            if (hours > Integer.MAX_VALUE) {
                throw new ConfigurationException("keep-within is too long: " + duration);
            }
            this.within = new Within(0, 0, 0, (int) hours);
            return this;
        }

        /** Keep every snapshot that has tag {@code key=value}. */
        public Builder keepTag(String key, String value) {
            return keepTags(Map.of(key, value));
        }

        /** Keep every snapshot that has all these tags (several calls: any of the sets). */
        public Builder keepTags(Map<String, String> tags) {
            if (tags.isEmpty()) {
                throw new ConfigurationException("keep-tag needs at least one KEY=VALUE");
            }
            tags.forEach((k, v) -> {
                if (k == null || k.isBlank() || v == null) {
                    throw new ConfigurationException("keep-tag needs KEY=VALUE with a non-empty key, was " + k + "=" + v);
                }
            });
            keepTags.add(Map.copyOf(tags));
            return this;
        }

        /** Parses {@code KEY=VALUE[,KEY=VALUE…]} (all must match). */
        public Builder keepTag(String spec) {
            Map<String, String> tags = new LinkedHashMap<>();
            for (String part : Objects.requireNonNull(spec).split(",")) {
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new ConfigurationException("'" + spec + "' is not a tag to keep: write KEY=VALUE (several: KEY=VALUE,KEY2=VALUE2)");
                }
                tags.put(part.substring(0, eq).trim(), part.substring(eq + 1).trim());
            }
            return keepTags(tags);
        }

        /** Time zone of calendar periods (default UTC). */
        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone);
            return this;
        }

        /** What snapshots are grouped by (default engine, source, database); none: one group for all. */
        public Builder groupBy(GroupBy... keys) {
            this.groupBy = keys.length == 0 ? EnumSet.noneOf(GroupBy.class) : EnumSet.copyOf(List.of(keys));
            return this;
        }

        public RetentionPolicy build() {
            return new RetentionPolicy(this);
        }
    }
}
