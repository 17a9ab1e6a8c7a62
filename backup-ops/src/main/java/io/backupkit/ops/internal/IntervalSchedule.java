package io.backupkit.ops.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.ops.Schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** Ticks at multiples of a fixed interval since the epoch, so that replicas agree on them. */
public final class IntervalSchedule implements Schedule {
    private final long seconds;

    public IntervalSchedule(Duration interval) {
        if (interval == null || interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.getNano() != 0) {
            throw new ConfigurationException("a schedule interval must be whole seconds and at least 1 s, was " + interval);
        }
        this.seconds = interval.getSeconds();
    }

    @Override
    public Optional<Instant> nextAfter(Instant instant) {
        long s = Math.floorDiv(instant.getEpochSecond(), seconds) * seconds;
        return Optional.of(Instant.ofEpochSecond(s + seconds));
    }

    @Override
    public Optional<Instant> latestAtOrBefore(Instant instant) {
        return Optional.of(Instant.ofEpochSecond(Math.floorDiv(instant.getEpochSecond(), seconds) * seconds));
    }

    @Override
    public String describe() {
        return "every " + Duration.ofSeconds(seconds).toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return describe();
    }
}
