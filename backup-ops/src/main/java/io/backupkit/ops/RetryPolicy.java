package io.backupkit.ops;

import io.backupkit.ConfigurationException;

import java.time.Duration;

/**
 * How often a failed backup is tried again within one tick, with exponential backoff:
 * attempt n+1 starts {@code min(initialDelay × 2^(n-1), maxDelay)} after attempt n failed.
 *
 * @param retries      attempts after the first (0 = none)
 * @param initialDelay delay before the first retry
 * @param maxDelay     upper bound of any delay
 */
public record RetryPolicy(int retries, Duration initialDelay, Duration maxDelay) {
    public RetryPolicy {
        if (retries < 0) {
            throw new ConfigurationException("retries must not be negative, was " + retries);
        }
        if (initialDelay == null || initialDelay.isNegative() || maxDelay == null || maxDelay.compareTo(initialDelay) < 0) {
            throw new ConfigurationException("retry delays must satisfy 0 <= initialDelay <= maxDelay, were "
                    + initialDelay + " and " + maxDelay);
        }
    }

    public static RetryPolicy none() {
        return new RetryPolicy(0, Duration.ZERO, Duration.ZERO);
    }

    public static RetryPolicy exponential(int retries, Duration initialDelay, Duration maxDelay) {
        return new RetryPolicy(retries, initialDelay, maxDelay);
    }

    /** The delay after failed attempt {@code attempt} (1-based). */
    public Duration delayAfter(int attempt) {
        Duration d = initialDelay;
        for (int i = 1; i < attempt && d.compareTo(maxDelay) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxDelay) > 0 ? maxDelay : d;
    }

    /** The longest time all retries of one tick can wait. */
    public Duration totalDelay() {
        Duration total = Duration.ZERO;
        for (int a = 1; a <= retries; a++) {
            total = total.plus(delayAfter(a));
        }
        return total;
    }
}
