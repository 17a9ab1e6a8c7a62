package io.backupkit.ops;

import io.backupkit.ConfigurationException;
import io.backupkit.ops.internal.CronSchedule;
import io.backupkit.ops.internal.IntervalSchedule;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Optional;

/**
 * When a job runs: a cron expression in an explicit time zone, or a fixed interval.
 *
 * <p><b>Cron expressions are standard 5-field Unix cron</b>: {@code minute hour day-of-month month
 * day-of-week}, e.g. {@code "0 3 * * *"} = every day at 03:00. A six-field expression whose first
 * field is seconds (Quartz, Spring, CloudNativePG's {@code ScheduledBackup}) is refused with an
 * error saying so, because read as Unix cron it would mean something else entirely; use
 * {@link #cronWithSeconds} if you really want seconds.
 *
 * <p>Ticks are wall-clock times in the zone. Across daylight-saving changes: a wall-clock time that
 * does not exist (spring forward) fires once, at the instant the clocks jump; a wall-clock time
 * that exists twice (fall back) fires once, at its first occurrence.
 *
 * <pre>{@code
 * Schedule nightly = Schedule.cron("30 2 * * *", ZoneId.of("Europe/Berlin"));
 * Schedule hourly  = Schedule.every(Duration.ofHours(1));
 * }</pre>
 */
public interface Schedule {

    /**
     * A standard 5-field Unix cron expression ({@code minute hour day-of-month month day-of-week}) or
     * one of {@code @yearly @annually @monthly @weekly @daily @midnight @hourly}, in {@code zone}.
     *
     * @throws ConfigurationException naming the field at fault when the expression is invalid
     */
    static Schedule cron(String expression, ZoneId zone) {
        return CronSchedule.unix(expression, zone);
    }

    /**
     * A 6-field cron expression whose first field is seconds ({@code second minute hour day-of-month
     * month day-of-week}, Spring syntax). Opt-in only: {@link #cron} is standard Unix cron.
     */
    static Schedule cronWithSeconds(String expression, ZoneId zone) {
        return CronSchedule.withSeconds(expression, zone);
    }

    /**
     * Every {@code interval} (whole seconds, at least one), at multiples of the interval since
     * 1970-01-01T00:00Z, so that every replica agrees on the ticks: {@code every(6 h)} fires at
     * 00:00, 06:00, 12:00 and 18:00 UTC.
     */
    static Schedule every(Duration interval) {
        return new IntervalSchedule(interval);
    }

    /** The first tick strictly after {@code instant}; empty when the schedule never fires again. */
    Optional<Instant> nextAfter(Instant instant);

    /** The last tick at or before {@code instant}; empty when there is none. */
    Optional<Instant> latestAtOrBefore(Instant instant);

    /** The expression and zone, or the interval, for messages and reports. */
    String describe();
}
