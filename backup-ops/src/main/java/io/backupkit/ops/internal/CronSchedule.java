package io.backupkit.ops.internal;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.CronType;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.backupkit.ConfigurationException;
import io.backupkit.ops.Schedule;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A cron schedule parsed by cron-utils. Execution times are computed on wall-clock time ("floating",
 * evaluated in UTC where no clock jumps) and only then mapped into the zone, so daylight-saving
 * changes follow one documented rule: a wall-clock time in a gap fires at the instant the clocks
 * jump, one in an overlap fires at its first occurrence, and no tick fires twice.
 */
public final class CronSchedule implements Schedule {
    private static final List<String> UNIX_FIELDS = List.of("minute", "hour", "day-of-month", "month", "day-of-week");
    private static final List<String> SECONDS_FIELDS = List.of("second", "minute", "hour", "day-of-month", "month", "day-of-week");
    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *", "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");
    private static final int MAX_STEPS = 10_000;

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime executionTime;

    private CronSchedule(String expression, ZoneId zone, Cron cron) {
        this.expression = expression;
        this.zone = zone;
        this.executionTime = ExecutionTime.forCron(cron);
    }

    public static CronSchedule unix(String expression, ZoneId zone) {
        String expr = checkArgs(expression, zone).trim();
        String expanded = MACROS.getOrDefault(expr.toLowerCase(Locale.ROOT), expr);
        String[] fields = expanded.split("\\s+");
        if (fields.length == 6 || fields.length == 7) {
            throw new ConfigurationException("cron expression '" + expr + "' has " + fields.length + " fields, but backupkit "
                    + "cron is standard 5-field Unix cron: minute hour day-of-month month day-of-week (e.g. '0 3 * * *' = daily "
                    + "at 03:00). A first field of seconds (Quartz/Spring/CloudNativePG style) is NOT supported here: drop it, "
                    + "or use Schedule.cronWithSeconds explicitly");
        }
        if (fields.length != 5) {
            throw new ConfigurationException("cron expression '" + expr + "' has " + fields.length + " field(s); standard "
                    + "5-field Unix cron is expected: minute hour day-of-month month day-of-week (e.g. '0 3 * * *')");
        }
        CronDefinition def = CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX);
        return new CronSchedule(expr, zone, parse(expr, fields, def, UNIX_FIELDS));
    }

    public static CronSchedule withSeconds(String expression, ZoneId zone) {
        String expr = checkArgs(expression, zone).trim();
        String[] fields = expr.split("\\s+");
        if (fields.length != 6) {
            throw new ConfigurationException("cron expression '" + expr + "' has " + fields.length + " field(s); "
                    + "cronWithSeconds expects 6: second minute hour day-of-month month day-of-week");
        }
        CronDefinition def = CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53);
        return new CronSchedule(expr, zone, parse(expr, fields, def, SECONDS_FIELDS));
    }

    private static String checkArgs(String expression, ZoneId zone) {
        if (expression == null || expression.isBlank()) {
            throw new ConfigurationException("cron expression must not be empty; standard 5-field Unix cron is expected, e.g. '0 3 * * *'");
        }
        Objects.requireNonNull(zone, "zone: give the time zone explicitly, e.g. ZoneId.of(\"UTC\")");
        return expression;
    }

    /** Parses field by field first (all others '*'), so the error names the field at fault. */
    private static Cron parse(String expr, String[] fields, CronDefinition def, List<String> names) {
        CronParser parser = new CronParser(def);
        for (int i = 0; i < fields.length; i++) {
            String[] probe = new String[fields.length];
            for (int j = 0; j < fields.length; j++) {
                probe[j] = j == i ? fields[i] : "*";
            }
            try {
                parser.parse(String.join(" ", probe)).validate();
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("invalid cron expression '" + expr + "': field " + (i + 1) + " ("
                        + names.get(i) + ") '" + fields[i] + "' is invalid: " + e.getMessage()
                        + " (standard 5-field Unix cron: minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, "
                        + "day-of-week 0-7 or SUN-SAT)");
            }
        }
        Cron cron;
        try {
            cron = parser.parse(String.join(" ", fields)).validate();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("invalid cron expression '" + expr + "': " + e.getMessage());
        }
        if (ExecutionTime.forCron(cron).nextExecution(ZonedDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC)).isEmpty()) {
            throw new ConfigurationException("cron expression '" + expr + "' never fires (e.g. a day that no month has)");
        }
        return cron;
    }

    public ZoneId zone() {
        return zone;
    }

    public String expression() {
        return expression;
    }

    @Override
    public Optional<Instant> nextAfter(Instant instant) {
        LocalDateTime local = LocalDateTime.ofInstant(instant, zone);
        Optional<LocalDateTime> c = nextLocal(local);
        for (int i = 0; i < MAX_STEPS && c.isPresent(); i++) {
            Instant at = toInstant(c.get());
            if (at.isAfter(instant)) {
                return Optional.of(at);
            }
            c = nextLocal(c.get());
        }
        return Optional.empty();
    }

    @Override
    public Optional<Instant> latestAtOrBefore(Instant instant) {
        LocalDateTime local = LocalDateTime.ofInstant(instant, zone);
        ZoneOffsetTransition overlap = zone.getRules().getTransition(local);
        if (overlap != null && overlap.isOverlap() && !instant.isBefore(overlap.getInstant())) {
            // the second pass through a repeated hour: its wall-clock times already fired, at their first
            // occurrence, so the search starts at the end of the repeated hour, not at the wall clock
            local = overlap.getDateTimeBefore();
        }
        local = local.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        Optional<LocalDateTime> c = lastLocal(local);
        for (int i = 0; i < MAX_STEPS && c.isPresent(); i++) {
            Instant at = toInstant(c.get());
            if (!at.isAfter(instant)) {
                return Optional.of(at);
            }
            c = lastLocal(c.get());
        }
        return Optional.empty();
    }

    private Optional<LocalDateTime> nextLocal(LocalDateTime after) {
        return executionTime.nextExecution(after.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toLocalDateTime);
    }

    private Optional<LocalDateTime> lastLocal(LocalDateTime before) {
        return executionTime.lastExecution(before.atZone(ZoneOffset.UTC)).map(ZonedDateTime::toLocalDateTime);
    }

    /** Wall-clock time to instant: a gap maps to the instant of the jump, an overlap to the first occurrence. */
    private Instant toInstant(LocalDateTime local) {
        List<ZoneOffset> offsets = zone.getRules().getValidOffsets(local);
        if (offsets.isEmpty()) {
            ZoneOffsetTransition gap = zone.getRules().getTransition(local);
            return gap.getInstant();
        }
        return local.toInstant(offsets.get(0));
    }

    @Override
    public String describe() {
        return "cron '" + expression + "' in " + zone.getId();
    }

    @Override
    public String toString() {
        return describe();
    }
}
