package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.redis.internal.RedisUrl;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.EngineOptions;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

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
        EngineOptions.requireKnown("Redis", "source", options, SOURCE_OPTIONS);
        RedisSource.Builder b = RedisSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "password" -> b.password(v.toCharArray());
                case "diskless" -> b.diskless(EngineOptions.flag(k, v));
                case "timeoutSeconds" -> b.timeout(Duration.ofSeconds(EngineOptions.positiveNumber(k, v)));
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
                    case "dropExisting", "overwrite" -> f.overwrite(EngineOptions.flag(k, v));
                    case "password", "jobs" -> { }
                    default -> throw new ConfigurationException("unknown option '" + k + "' for an RDB file target; known: [dropExisting, "
                            + "overwrite]");
                }
            });
            return f.build();
        }
        EngineOptions.requireKnown("Redis", "target", options, TARGET_OPTIONS);
        RedisTarget.Builder b = RedisTarget.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "password" -> b.password(v.toCharArray());
                case "dropExisting" -> b.dropExisting(EngineOptions.flag(k, v));
                case "compare" -> b.compare(EngineOptions.flag(k, v));
                case "timeoutSeconds" -> b.timeout(Duration.ofSeconds(EngineOptions.positiveNumber(k, v)));
                case "jobs" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }
}
