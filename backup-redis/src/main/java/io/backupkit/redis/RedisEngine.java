package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.redis.internal.RedisUrl;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Redis {@link DatabaseEngine}, found by {@link java.util.ServiceLoader} for
 * {@code redis://[USER@]HOST[:PORT]} URLs (the whole instance, every logical database), and, as a
 * restore target only, {@code rdb:PATH}: the snapshot as an RDB file for a server's data directory
 * ({@link RedisRdbFileTarget}).
 *
 * <p>Options: {@code password}, {@code timeoutSeconds}; source: {@code diskless}; target:
 * {@code dropExisting} (FLUSHALL a non-empty target first), {@code compare}. {@code jobs} is accepted
 * and ignored.
 *
 * <pre>{@code
 * BackupSource s = new RedisEngine().source("redis://backup@cache:6379", Map.of("password", secret));
 * }</pre>
 */
public final class RedisEngine implements DatabaseEngine {
    public static final String NAME = "redis";

    private static final Set<String> SOURCE_OPTIONS = Set.of("password", "diskless", "timeoutSeconds", "jobs");
    private static final Set<String> TARGET_OPTIONS = Set.of("password", "dropExisting", "compare", "timeoutSeconds", "jobs");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean supports(String url) {
        return RedisUrl.isRedisUrl(url) || RedisRdbFileTarget.isRdbUrl(url);
    }

    @Override
    public BackupSource source(String url, Map<String, String> options) {
        if (RedisRdbFileTarget.isRdbUrl(url)) {
            throw new ConfigurationException("rdb:PATH is a restore target (an RDB file for a data directory); back up from the running "
                    + "server: redis://[USER@]HOST:PORT");
        }
        check(options, SOURCE_OPTIONS, "source");
        RedisSource.Builder b = RedisSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "password" -> b.password(v.toCharArray());
                case "diskless" -> b.diskless(flag(k, v));
                case "timeoutSeconds" -> b.timeout(Duration.ofSeconds(number(k, v)));
                case "jobs" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    @Override
    public RestoreTarget target(String url, Map<String, String> options) {
        if (RedisRdbFileTarget.isRdbUrl(url)) {
            RedisRdbFileTarget.Builder f = RedisRdbFileTarget.builder().url(url);
            options.forEach((k, v) -> {
                switch (k) {
                    case "dropExisting", "overwrite" -> f.overwrite(flag(k, v));
                    case "password", "jobs" -> { }
                    default -> throw new ConfigurationException("unknown option '" + k + "' for an RDB file target; known: [dropExisting, "
                            + "overwrite]");
                }
            });
            return f.build();
        }
        check(options, TARGET_OPTIONS, "target");
        RedisTarget.Builder b = RedisTarget.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "password" -> b.password(v.toCharArray());
                case "dropExisting" -> b.dropExisting(flag(k, v));
                case "compare" -> b.compare(flag(k, v));
                case "timeoutSeconds" -> b.timeout(Duration.ofSeconds(number(k, v)));
                case "jobs" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    private static void check(Map<String, String> options, Set<String> known, String what) {
        for (String k : options.keySet()) {
            if (!known.contains(k)) {
                throw new ConfigurationException("unknown Redis " + what + " option '" + k + "'; known: " + new TreeSet<>(known));
            }
        }
    }

    private static boolean flag(String key, String v) {
        if (v == null || v.isEmpty() || v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigurationException("option " + key + " must be true or false, was '" + v + "'");
    }

    private static int number(String key, String v) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigurationException("option " + key + " must be a positive number, was '" + v + "'");
        }
    }
}
