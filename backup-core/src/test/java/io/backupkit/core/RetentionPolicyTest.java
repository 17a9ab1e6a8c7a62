package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.RetentionPlan;
import io.backupkit.RetentionPolicy;
import io.backupkit.SnapshotSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RetentionPolicy agrees with restic's documented forget behaviour (doc/060_forget.rst): union of rules,
 * newest snapshot per period, periods without snapshots do not count, keep-within measured from the
 * newest snapshot (not from now), ISO weeks, the oldest snapshot kept while a rule has counts left, and
 * calendar periods in the policy's time zone. Checked on cases worked out by hand (DST changes in two
 * zones, leap years, ISO week 53, the documentation's own example) and on generated snapshot times
 * against an independent, declarative statement of the same rules.
 */
class RetentionPolicyTest {
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

    private static int serial;

    private static SnapshotSummary at(Instant t, Map<String, String> tags) {
        String id = String.format("%064x", ++serial);
        return new SnapshotSummary(id, t, "host", "postgresql", "postgresql://db/shop", "shop", tags, 1, 1, 1);
    }

    private static SnapshotSummary at(String localTime, ZoneId zone) {
        return at(LocalDateTime.parse(localTime).atZone(zone).toInstant(), Map.of());
    }

    private static SnapshotSummary atOffset(String isoWithOffset) {
        return at(ZonedDateTime.parse(isoWithOffset).toInstant(), Map.of());
    }

    private static Set<Instant> kept(RetentionPolicy p, List<SnapshotSummary> all) {
        RetentionPlan plan = p.apply(all, NOW);
        assertEquals(all.size(), plan.toKeep().size() + plan.toRemove().size());
        return plan.toKeep().stream().map(SnapshotSummary::time).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<Instant> times(SnapshotSummary... s) {
        return Stream.of(s).map(SnapshotSummary::time).collect(Collectors.toCollection(TreeSet::new));
    }

    // ---- the documentation's example -------------------------------------------------------------

    @Test
    void restics_weekdayExample_keepDaily5_keepsTheNewestOfTheLastFiveDaysWithSnapshots() {
        // backups every weekday for two weeks, an extra one on Fridays, Wednesday 30 April missed
        ZoneId z = ZoneOffset.UTC;
        SnapshotSummary a = at("2025-04-21T11:00", z);
        SnapshotSummary b = at("2025-04-22T11:00", z);
        SnapshotSummary c = at("2025-04-23T11:00", z);
        SnapshotSummary d = at("2025-04-24T11:00", z);
        SnapshotSummary e = at("2025-04-25T11:00", z);
        SnapshotSummary f = at("2025-04-25T23:00", z);
        SnapshotSummary g = at("2025-04-28T11:00", z);
        SnapshotSummary h = at("2025-04-29T11:00", z);
        SnapshotSummary i = at("2025-05-01T11:00", z);
        SnapshotSummary j = at("2025-05-02T11:00", z);
        SnapshotSummary k = at("2025-05-02T23:00", z);
        List<SnapshotSummary> all = List.of(a, b, c, d, e, f, g, h, i, j, k);
        assertEquals(times(f, g, h, i, k), kept(RetentionPolicy.builder().keepDaily(5).build(), all));
    }

    @Test
    void restics_hundredYearsExample_dailyWeeklyMonthlyYearlyOverlap() {
        // one backup a day for 100 years, the newest on Sunday 30 December 2029 (the end of an ISO week)
        List<SnapshotSummary> all = new ArrayList<>();
        ZonedDateTime t = ZonedDateTime.of(1929, 12, 31, 3, 0, 0, 0, ZoneOffset.UTC);
        for (ZonedDateTime d = t; !d.toLocalDate().isAfter(java.time.LocalDate.of(2029, 12, 30)); d = d.plusDays(1)) {
            all.add(at(d.toInstant(), Map.of()));
        }
        RetentionPlan plan = RetentionPolicy.builder().keepDaily(7).keepWeekly(5).keepMonthly(12).keepYearly(75).build().apply(all, NOW);
        // the docs: 7 daily, 4 weekly (the dailies are one whole week), 12 or 11 monthly, 75 or 74 yearly.
        // Here December's newest is a daily one, and so is 2029's: 11 monthly and 74 yearly more
        assertEquals(7 + 4 + 11 + 74, plan.toKeep().size());
    }

    // ---- hand-worked edge cases ------------------------------------------------------------------

    @Test
    void isoWeek53_isOneWeekAcrossNewYear() {
        // 2026 has an ISO week 53: Monday 28 December 2026 to Sunday 3 January 2027
        SnapshotSummary thu = at("2026-12-31T10:00", ZoneOffset.UTC);
        SnapshotSummary sat = at("2027-01-02T10:00", ZoneOffset.UTC);
        SnapshotSummary mon = at("2027-01-04T10:00", ZoneOffset.UTC);
        assertEquals(53, LocalDateTime.parse("2027-01-02T10:00").get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
        assertEquals(times(sat, mon), kept(RetentionPolicy.builder().keepWeekly(2).build(), List.of(thu, sat, mon)));
        // with a count left over, the oldest snapshot of the oldest week is kept as well
        assertEquals(times(thu, sat, mon), kept(RetentionPolicy.builder().keepWeekly(3).build(), List.of(thu, sat, mon)));
        // yearly by calendar year, not by week-based year
        assertEquals(times(thu, mon), kept(RetentionPolicy.builder().keepYearly(2).build(), List.of(thu, sat, mon)));
    }

    @Test
    void weekOne_canStartInDecember() {
        // Monday 30 December 2024 belongs to week 1 of 2025, Sunday 29 December to week 52 of 2024
        SnapshotSummary sun = at("2024-12-29T12:00", ZoneOffset.UTC);
        SnapshotSummary mon = at("2024-12-30T12:00", ZoneOffset.UTC);
        SnapshotSummary thu = at("2025-01-02T12:00", ZoneOffset.UTC);
        assertEquals(times(sun, thu), kept(RetentionPolicy.builder().keepWeekly(2).build(), List.of(sun, mon, thu)));
    }

    @Test
    void leapDay_isADayOfItsOwn_andKeepWithinRollsOverLikeRestic() {
        SnapshotSummary feb28 = at("2024-02-28T12:00", ZoneOffset.UTC);
        SnapshotSummary feb29 = at("2024-02-29T12:00", ZoneOffset.UTC);
        SnapshotSummary mar1 = at("2024-03-01T12:00", ZoneOffset.UTC);
        SnapshotSummary mar2 = at("2024-03-02T13:00", ZoneOffset.UTC);
        SnapshotSummary mar31 = at("2024-03-31T12:00", ZoneOffset.UTC);
        List<SnapshotSummary> all = List.of(feb28, feb29, mar1, mar2, mar31);
        assertEquals(times(feb29, mar1, mar2, mar31), kept(RetentionPolicy.builder().keepDaily(4).build(), all));
        // 31 March minus one month is "31 February", which Go (restic) rolls over to 2 March, 12:00
        assertEquals(times(mar2, mar31), kept(RetentionPolicy.builder().keepWithin("1m").build(), all));
        // one year back from 29 February 2024 is "29 February 2023" = 1 March 2023
        SnapshotSummary mar1y23 = at("2023-03-01T11:00", ZoneOffset.UTC);
        SnapshotSummary mar1y23b = at("2023-03-01T12:30", ZoneOffset.UTC);
        assertEquals(times(mar1y23b, feb29), kept(RetentionPolicy.builder().keepWithin("1y").build(), List.of(mar1y23, mar1y23b, feb29)));
    }

    @Test
    void dstSpringForward_berlin_hoursAreWallClockHours() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST; 01:30 CET and 03:10 CEST are 40 minutes apart
        SnapshotSummary a = atOffset("2026-03-29T00:50+01:00");
        SnapshotSummary b = atOffset("2026-03-29T01:30+01:00");
        SnapshotSummary c = atOffset("2026-03-29T03:10+02:00");
        RetentionPolicy hourly = RetentionPolicy.builder().keepHourly(2).zone(BERLIN).build();
        assertEquals(times(b, c), kept(hourly, List.of(a, b, c)));
        // in UTC the same instants are 23:50, 00:30 and 01:10: three hours
        assertEquals(times(b, c), kept(RetentionPolicy.builder().keepHourly(2).build(), List.of(a, b, c)));
        // and the day changes at Berlin's midnight, not UTC's: 23:50 UTC on the 28th is the 29th in Berlin
        assertEquals(times(c), kept(RetentionPolicy.builder().keepDaily(1).zone(BERLIN).build(), List.of(a, b, c)));
        assertEquals(times(a, c), kept(RetentionPolicy.builder().keepDaily(2).build(), List.of(a, b, c)));
    }

    @Test
    void dstFallBack_newYork_theRepeatedHourIsOneHour() {
        // 1 November 2026: 02:00 EDT becomes 01:00 EST; 01:20 EDT and 01:40 EST are 80 minutes apart, both "01" on the wall
        SnapshotSummary a = atOffset("2026-11-01T00:30-04:00");
        SnapshotSummary b = atOffset("2026-11-01T01:20-04:00");
        SnapshotSummary c = atOffset("2026-11-01T01:40-05:00");
        SnapshotSummary d = atOffset("2026-11-01T02:10-05:00");
        RetentionPolicy hourly = RetentionPolicy.builder().keepHourly(3).zone(NEW_YORK).build();
        assertEquals(times(a, c, d), kept(hourly, List.of(a, b, c, d)));
        // in UTC they are four different hours
        assertEquals(times(b, c, d), kept(RetentionPolicy.builder().keepHourly(3).build(), List.of(a, b, c, d)));
    }

    @Test
    void dstFallBack_berlin_dayHas25Hours() {
        // 25 October 2026 in Berlin lasts 25 hours; snapshots at both ends are the same day
        SnapshotSummary early = atOffset("2026-10-25T00:10+02:00");
        SnapshotSummary late = atOffset("2026-10-25T23:50+01:00");
        SnapshotSummary next = atOffset("2026-10-26T00:10+01:00");
        assertEquals(times(late, next), kept(RetentionPolicy.builder().keepDaily(2).zone(BERLIN).build(), List.of(early, late, next)));
    }

    @Test
    void keepWithin_isMeasuredFromTheNewestSnapshot_notFromNow() {
        SnapshotSummary a = at("2020-01-01T00:00", ZoneOffset.UTC);
        SnapshotSummary b = at("2020-01-05T00:00", ZoneOffset.UTC);
        SnapshotSummary c = at("2020-01-06T00:00", ZoneOffset.UTC);
        // "now" is 2030: measured from now, nothing is within 2 days
        assertEquals(times(b, c), kept(RetentionPolicy.builder().keepWithin("2d").build(), List.of(a, b, c)));
        assertEquals(times(b, c), kept(RetentionPolicy.builder().keepWithin(Duration.ofHours(47)).build(), List.of(a, b, c)));
    }

    @Test
    void snapshotInTheFuture_doesNotDefineTheNewest_andIsKeptByWithin() {
        SnapshotSummary a = at("2029-12-01T00:00", ZoneOffset.UTC);
        SnapshotSummary b = at("2029-12-30T00:00", ZoneOffset.UTC);
        SnapshotSummary future = at("2031-06-01T00:00", ZoneOffset.UTC);
        assertEquals(times(b, future), kept(RetentionPolicy.builder().keepWithin("3d").build(), List.of(a, b, future)));
    }

    @Test
    void unlimited_keepsOnePerPeriod_andTheOldest() {
        SnapshotSummary a = at("2024-01-01T01:00", ZoneOffset.UTC);
        SnapshotSummary b = at("2024-01-01T02:00", ZoneOffset.UTC);
        SnapshotSummary c = at("2024-02-01T01:00", ZoneOffset.UTC);
        SnapshotSummary d = at("2024-02-01T02:00", ZoneOffset.UTC);
        assertEquals(times(a, b, d), kept(RetentionPolicy.builder().keepMonthly(RetentionPolicy.UNLIMITED).build(), List.of(a, b, c, d)));
    }

    @Test
    void keepTag_andGroups() {
        SnapshotSummary a = at(Instant.parse("2024-01-01T00:00:00Z"), Map.of("keep", "forever"));
        SnapshotSummary b = at(Instant.parse("2024-01-02T00:00:00Z"), Map.of());
        SnapshotSummary c = at(Instant.parse("2024-01-03T00:00:00Z"), Map.of("env", "prod"));
        assertEquals(times(a, c), kept(RetentionPolicy.builder().keepLast(1).keepTag("keep=forever").build(), List.of(a, b, c)));
        SnapshotSummary other = new SnapshotSummary(String.format("%064x", ++serial), Instant.parse("2023-01-01T00:00:00Z"), "h",
                "postgresql", "postgresql://db/other", "other", Map.of(), 1, 1, 1);
        RetentionPlan plan = RetentionPolicy.builder().keepLast(1).build().apply(List.of(a, b, c, other), NOW);
        assertEquals(2, plan.groups().size(), "another database is its own group");
        assertEquals(Set.of(c.id(), other.id()), plan.toKeep().stream().map(SnapshotSummary::id).collect(Collectors.toSet()));
        // with no grouping, one policy for all
        plan = RetentionPolicy.builder().keepLast(1).groupBy().build().apply(List.of(a, b, c, other), NOW);
        assertEquals(List.of(c.id()), plan.toKeep().stream().map(SnapshotSummary::id).toList());
        // a tag-only policy that matches nothing empties the group: the plan says so
        assertEquals(1, RetentionPolicy.builder().keepTag("x", "y").build().apply(List.of(b), NOW).emptiedGroups().size());
    }

    @Test
    void pitrWindow_keepsTheBaseBackupThatCoversTheWindowsStart() {
        // daily base backups at 01:00; now is 1 January 2030 00:00: the 7-day window starts on 25 December 00:00
        List<SnapshotSummary> all = new ArrayList<>();
        for (int d = 15; d <= 31; d++) {
            all.add(at(Instant.parse(String.format("2029-12-%02dT01:00:00Z", d)), Map.of()));
        }
        RetentionPolicy p = RetentionPolicy.builder().keepLast(1).pitrWindow(Duration.ofDays(7)).build();
        RetentionPlan plan = p.apply(all, NOW);
        // the base of 24 December covers 25 December 00:00; later ones are not needed to recover (WAL from the 24th is)
        assertEquals(times(at("2029-12-24T01:00", ZoneOffset.UTC), at("2029-12-31T01:00", ZoneOffset.UTC)), kept(p, all));
        assertTrue(plan.groups().get(0).keep().get(0).reasons().contains("base of the point-in-time recovery window"));
        // when every backup is newer than the window's start, the oldest is the base
        List<SnapshotSummary> young = all.subList(12, 17);
        assertEquals(times(young.get(0), young.get(4)), kept(p, young));
        assertThrows(ConfigurationException.class, () -> RetentionPolicy.builder().pitrWindow(Duration.ZERO));
        assertTrue(p.describe().contains("point-in-time recovery window"));
    }

    @Test
    void nonsenseValues_areNamed() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> RetentionPolicy.builder().keepDaily(-3));
        assertTrue(e.getMessage().contains("keep-daily") && e.getMessage().contains("-3"), e.getMessage());
        e = assertThrows(ConfigurationException.class, () -> RetentionPolicy.builder().keepWithin("3 weeks"));
        assertTrue(e.getMessage().contains("'3 weeks'") && e.getMessage().contains("7d"), e.getMessage());
        e = assertThrows(ConfigurationException.class, () -> RetentionPolicy.builder().keepTag("env"));
        assertTrue(e.getMessage().contains("KEY=VALUE"), e.getMessage());
        assertTrue(RetentionPolicy.builder().build().isEmpty());
        assertTrue(RetentionPolicy.builder().keepWithin("0d").build().isEmpty());
    }

    // ---- generated times against a declarative statement of restic's rules ---------------------------

    /** Instants around DST changes in two zones, leap days, ISO week 53 and year ends, plus random ones. */
    private static List<Instant> interestingInstants(Random r) {
        List<Instant> base = new ArrayList<>();
        for (String s : List.of("2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z", "2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z",
                "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", "2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z",
                "2024-02-29T12:00:00Z", "2020-02-29T12:00:00Z", "2028-02-29T12:00:00Z", "2026-12-31T23:00:00Z",
                "2027-01-03T23:00:00Z", "2020-12-31T23:00:00Z", "2021-01-03T12:00:00Z", "2024-12-30T00:30:00Z")) {
            base.add(Instant.parse(s));
        }
        List<Instant> out = new ArrayList<>();
        int n = 5 + r.nextInt(60);
        for (int i = 0; i < n; i++) {
            Instant center = base.get(r.nextInt(base.size()));
            long spreadMinutes = switch (r.nextInt(4)) {
                case 0 -> 180;
                case 1 -> 3 * 24 * 60;
                case 2 -> 40 * 24 * 60;
                default -> 800 * 24 * 60;
            };
            out.add(center.plus(Duration.ofMinutes((long) ((r.nextDouble() * 2 - 1) * spreadMinutes))));
        }
        return out;
    }

    static Stream<Arguments> generated() {
        List<Arguments> out = new ArrayList<>();
        Random seeds = new Random(20261130);
        for (int i = 0; i < 1500; i++) {
            out.add(Arguments.of(seeds.nextLong()));
        }
        return out.stream();
    }

    private static int randomCount(Random r) {
        int x = r.nextInt(10);
        return x < 3 ? 0 : x == 9 ? RetentionPolicy.UNLIMITED : r.nextInt(8) + 1;
    }

    /** Restic's rules stated over sets: which snapshots a single calendar rule keeps. */
    private static Set<String> calendarRule(List<SnapshotSummary> newestFirst, int count, Function<ZonedDateTime, Object> period,
                                            ZoneId zone) {
        Set<String> keep = new HashSet<>();
        if (count == 0) {
            return keep;
        }
        // periods in order of their newest snapshot (wall-clock periods are contiguous in time in these zones)
        Map<Object, List<SnapshotSummary>> periods = new LinkedHashMap<>();
        for (SnapshotSummary s : newestFirst) {
            periods.computeIfAbsent(period.apply(s.time().atZone(zone)), k -> new ArrayList<>()).add(s);
        }
        int n = count == RetentionPolicy.UNLIMITED ? Integer.MAX_VALUE : count;
        int taken = 0;
        for (List<SnapshotSummary> p : periods.values()) {
            if (taken++ >= n) {
                break;
            }
            keep.add(p.get(0).id());
        }
        // counts left after the last period: the oldest snapshot is kept too
        if (periods.size() < n) {
            keep.add(newestFirst.get(newestFirst.size() - 1).id());
        }
        return keep;
    }

    /** Go's time.AddDate(-y, -m, -d) then -h hours: the date is normalized, so day overflow rolls into the next month. */
    private static Instant goAddDateBack(Instant t, RetentionPolicy.Within w, ZoneId zone) {
        ZonedDateTime z = t.atZone(zone);
        int month0 = z.getMonthValue() - 1 - w.months() - 12 * w.years();
        int year = z.getYear() + Math.floorDiv(month0, 12);
        int month = Math.floorMod(month0, 12) + 1;
        // day d of a month = the first of the month plus d - 1 days, whatever the month's length
        java.time.LocalDate date = java.time.LocalDate.of(year, month, 1).plusDays(z.getDayOfMonth() - 1 - w.days());
        return date.atTime(z.toLocalTime()).atZone(zone).withEarlierOffsetAtOverlap().toInstant().minus(Duration.ofHours(w.hours()));
    }

    @ParameterizedTest
    @MethodSource("generated")
    void generatedTimes_agreeWithTheDeclarativeRules(long seed) {
        Random r = new Random(seed);
        ZoneId zone = List.of(ZoneOffset.UTC, NEW_YORK, BERLIN).get(r.nextInt(3));
        List<SnapshotSummary> all = new ArrayList<>();
        for (Instant t : new TreeSet<>(interestingInstants(r))) {
            all.add(at(t, r.nextInt(7) == 0 ? Map.of("keep", "yes") : Map.of()));
        }
        RetentionPolicy.Builder b = RetentionPolicy.builder().zone(zone).keepLast(randomCount(r)).keepHourly(randomCount(r))
                .keepDaily(randomCount(r)).keepWeekly(randomCount(r)).keepMonthly(randomCount(r)).keepYearly(randomCount(r));
        String within = null;
        if (r.nextInt(3) == 0) {
            within = List.of("5h", "2d", "1m", "1y", "1m3d", "45d").get(r.nextInt(6));
            b.keepWithin(within);
        }
        boolean tag = r.nextInt(4) == 0;
        if (tag) {
            b.keepTag("keep", "yes");
        }
        RetentionPolicy p = b.build();

        List<SnapshotSummary> newestFirst = new ArrayList<>(all);
        newestFirst.sort(Comparator.comparing(SnapshotSummary::time).thenComparing(SnapshotSummary::id).reversed());
        Set<String> expected = new HashSet<>();
        int last = p.keepLast() == RetentionPolicy.UNLIMITED ? newestFirst.size() : p.keepLast();
        newestFirst.stream().limit(last).forEach(s -> expected.add(s.id()));
        expected.addAll(calendarRule(newestFirst, p.keepHourly(), t -> t.toLocalDate() + "T" + t.getHour(), zone));
        expected.addAll(calendarRule(newestFirst, p.keepDaily(), ZonedDateTime::toLocalDate, zone));
        expected.addAll(calendarRule(newestFirst, p.keepWeekly(),
                t -> t.get(IsoFields.WEEK_BASED_YEAR) + "W" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR), zone));
        expected.addAll(calendarRule(newestFirst, p.keepMonthly(), t -> t.getYear() + "-" + t.getMonthValue(), zone));
        expected.addAll(calendarRule(newestFirst, p.keepYearly(), ZonedDateTime::getYear, zone));
        if (within != null) {
            // the newest snapshot that is not in the future
            Instant newest = newestFirst.stream().map(SnapshotSummary::time).filter(x -> x.isBefore(NOW)).findFirst().orElse(Instant.EPOCH);
            Instant from = goAddDateBack(newest, p.keepWithin(), zone);
            newestFirst.stream().filter(s -> s.time().isAfter(from)).forEach(s -> expected.add(s.id()));
        }
        if (tag) {
            all.stream().filter(s -> "yes".equals(s.tags().get("keep"))).forEach(s -> expected.add(s.id()));
        }
        RetentionPlan plan = p.apply(all, NOW);
        Set<String> actual = plan.toKeep().stream().map(SnapshotSummary::id).collect(Collectors.toSet());
        assertEquals(expected, actual, () -> "seed " + seed + ", " + p.describe() + ", zone " + zone + ", snapshots "
                + all.stream().map(s -> s.time().atZone(zone).toLocalDateTime().toString()).toList());
        Map<String, Integer> seen = new HashMap<>();
        plan.toKeep().forEach(s -> seen.merge(s.id(), 1, Integer::sum));
        plan.toRemove().forEach(s -> seen.merge(s.id(), 1, Integer::sum));
        assertTrue(seen.values().stream().allMatch(v -> v == 1) && seen.size() == all.size(), "each snapshot is kept or removed once");
    }
}
