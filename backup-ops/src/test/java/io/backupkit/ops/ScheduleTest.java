package io.backupkit.ops;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cron parsing, errors that name the field, and ticks across daylight-saving changes in two zones. */
class ScheduleTest {
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    static List<Instant> ticks(Schedule s, Instant from, Instant to) {
        List<Instant> out = new ArrayList<>();
        Instant t = from;
        while (true) {
            Instant next = s.nextAfter(t).orElseThrow();
            if (next.isAfter(to)) {
                return out;
            }
            out.add(next);
            t = next;
        }
    }

    static Instant at(String isoWithOffset) {
        return ZonedDateTime.parse(isoWithOffset).toInstant();
    }

    @Test
    void dailyAtThreeIsThreeOClockLocalTimeOnEveryDayAroundBothBerlinChanges() {
        Schedule s = Schedule.cron("0 3 * * *", BERLIN);
        // 2026-03-29: 02:00 -> 03:00 (CET -> CEST); 2026-10-25: 03:00 -> 02:00
        assertEquals(List.of(at("2026-03-28T03:00+01:00"), at("2026-03-29T03:00+02:00"), at("2026-03-30T03:00+02:00")),
                ticks(s, at("2026-03-28T00:00+01:00"), at("2026-03-30T12:00+02:00")));
        assertEquals(List.of(at("2026-10-24T03:00+02:00"), at("2026-10-25T03:00+01:00"), at("2026-10-26T03:00+01:00")),
                ticks(s, at("2026-10-24T00:00+02:00"), at("2026-10-26T12:00+01:00")));
    }

    @Test
    void aTimeInTheSpringGapFiresOnceWhenTheClocksJump() {
        // 02:30 does not exist on 2026-03-29 in Berlin, nor on 2026-03-08 in New York
        assertEquals(List.of(at("2026-03-28T02:30+01:00"), at("2026-03-29T03:00+02:00"), at("2026-03-30T02:30+02:00")),
                ticks(Schedule.cron("30 2 * * *", BERLIN), at("2026-03-28T00:00+01:00"), at("2026-03-30T12:00+02:00")));
        assertEquals(List.of(at("2026-03-07T02:30-05:00"), at("2026-03-08T03:00-04:00"), at("2026-03-09T02:30-04:00")),
                ticks(Schedule.cron("30 2 * * *", NEW_YORK), at("2026-03-07T00:00-05:00"), at("2026-03-09T12:00-04:00")));
    }

    @Test
    void aTimeInTheAutumnOverlapFiresOnceAtItsFirstOccurrence() {
        // 01:30 happens twice on 2026-11-01 in New York, 02:30 twice on 2026-10-25 in Berlin
        assertEquals(List.of(at("2026-10-31T01:30-04:00"), at("2026-11-01T01:30-04:00"), at("2026-11-02T01:30-05:00")),
                ticks(Schedule.cron("30 1 * * *", NEW_YORK), at("2026-10-31T00:00-04:00"), at("2026-11-02T12:00-05:00")));
        assertEquals(List.of(at("2026-10-24T02:30+02:00"), at("2026-10-25T02:30+02:00"), at("2026-10-26T02:30+01:00")),
                ticks(Schedule.cron("30 2 * * *", BERLIN), at("2026-10-24T00:00+02:00"), at("2026-10-26T12:00+01:00")));
    }

    @Test
    void everyQuarterHourAcrossTheChangesNeverFiresTwiceAndNeverGoesBack() {
        for (ZoneId zone : List.of(BERLIN, NEW_YORK)) {
            Schedule s = Schedule.cron("*/15 * * * *", zone);
            for (Instant[] window : new Instant[][] {
                    {at("2026-03-07T00:00Z"), at("2026-03-09T12:00Z")}, {at("2026-03-28T00:00Z"), at("2026-03-30T12:00Z")},
                    {at("2026-10-24T00:00Z"), at("2026-10-26T12:00Z")}, {at("2026-10-31T00:00Z"), at("2026-11-02T12:00Z")}}) {
                List<Instant> t = ticks(s, window[0], window[1]);
                for (int i = 1; i < t.size(); i++) {
                    assertTrue(t.get(i).isAfter(t.get(i - 1)), zone + " " + t.get(i));
                    // wall-clock quarter hours: at most 15 min apart except the hour that falls back (75 min)
                    long gap = Duration.between(t.get(i - 1), t.get(i)).toMinutes();
                    assertTrue(gap == 15 || gap == 75, zone + " gap " + gap + " min before " + t.get(i));
                }
            }
        }
    }

    @Test
    void latestAtOrBeforeIsTheTickThatNextAfterWouldHaveGiven() {
        for (ZoneId zone : List.of(BERLIN, NEW_YORK)) {
            Schedule s = Schedule.cron("30 2 * * *", zone);
            List<Instant> t = ticks(s, at("2026-03-01T00:00Z"), at("2026-11-30T00:00Z"));
            for (int i = 1; i < t.size(); i++) {
                assertEquals(t.get(i), s.latestAtOrBefore(t.get(i)).orElseThrow(), zone + " exactly at a tick");
                assertEquals(t.get(i - 1), s.latestAtOrBefore(t.get(i).minusSeconds(1)).orElseThrow(), zone + " just before");
            }
        }
    }

    @Test
    void intervalsAreAlignedToTheEpochSoReplicasAgree() {
        Schedule s = Schedule.every(Duration.ofHours(6));
        assertEquals(at("2026-05-01T12:00Z"), s.nextAfter(at("2026-05-01T07:13:11Z")).orElseThrow());
        assertEquals(at("2026-05-01T06:00Z"), s.latestAtOrBefore(at("2026-05-01T07:13:11Z")).orElseThrow());
        assertEquals(at("2026-05-01T18:00Z"), s.nextAfter(at("2026-05-01T12:00Z")).orElseThrow());
        assertThrows(ConfigurationException.class, () -> Schedule.every(Duration.ofMillis(1500)));
    }

    @Test
    void sixFieldsAreRefusedLoudlyBecauseTheFirstWouldBeSeconds() {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Schedule.cron("0 0 3 * * *", BERLIN));
        assertTrue(e.getMessage().contains("standard 5-field Unix cron") && e.getMessage().contains("seconds"), e.getMessage());
        assertEquals(at("2026-05-01T03:00:00+02:00"),
                Schedule.cronWithSeconds("0 0 3 * * *", BERLIN).nextAfter(at("2026-05-01T00:00+02:00")).orElseThrow());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "61 * * * *     | field 1 (minute)",
            "0 24 * * *     | field 2 (hour)",
            "0 3 32 * *     | field 3 (day-of-month)",
            "0 3 * 13 *     | field 4 (month)",
            "0 3 * * MOX    | field 5 (day-of-week)",
            "0 3 * *        | 4 field(s)",
            "*/0 * * * *    | field 1 (minute)"})
    void anInvalidExpressionNamesTheFieldAtFault(String expression, String expected) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Schedule.cron(expression, BERLIN));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void macrosAndNamesAreAccepted() {
        assertEquals(at("2026-05-02T00:00+02:00"), Schedule.cron("@daily", BERLIN).nextAfter(at("2026-05-01T10:00+02:00")).orElseThrow());
        assertEquals(at("2026-05-04T03:00+02:00"), Schedule.cron("0 3 * * MON", BERLIN).nextAfter(at("2026-05-01T10:00+02:00")).orElseThrow());
    }

    @Test
    void latestAtOrBeforeDuringTheRepeatedHourIsTheTickThatFiredAtTheFirstPass() {
        // Berlin 2026-10-25: 02:30 CEST (00:30Z) fired; at 02:40 CET (01:40Z, the second pass) it is the latest tick,
        // not yesterday's: a scheduler restarted then must see it as missed (RUN_ONCE)
        Schedule berlin = Schedule.cron("30 2 * * *", BERLIN);
        assertEquals(at("2026-10-25T02:30+02:00"), berlin.latestAtOrBefore(at("2026-10-25T02:40+01:00")).orElseThrow());
        assertEquals(at("2026-10-25T02:30+02:00"), berlin.latestAtOrBefore(at("2026-10-25T02:00+01:00")).orElseThrow());
        Schedule quarter = Schedule.cron("*/15 * * * *", NEW_YORK);
        // New York 2026-11-01: 01:00-01:59 EDT, then again EST; at 01:20 EST the 01:45 EDT tick is the latest
        assertEquals(at("2026-11-01T01:45-04:00"), quarter.latestAtOrBefore(at("2026-11-01T01:20-05:00")).orElseThrow());
        assertEquals(at("2026-11-01T02:00-05:00"), quarter.latestAtOrBefore(at("2026-11-01T02:00-05:00")).orElseThrow());
        for (Instant t = at("2026-11-01T00:00-04:00"); t.isBefore(at("2026-11-01T03:00-05:00")); t = t.plusSeconds(7 * 60)) {
            Instant latest = quarter.latestAtOrBefore(t).orElseThrow();
            assertTrue(!latest.isAfter(t) && quarter.nextAfter(latest).orElseThrow().isAfter(t), t + " -> " + latest);
        }
    }
}
