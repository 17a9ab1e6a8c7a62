package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.redis.internal.RdbFormatException;
import io.backupkit.redis.internal.RdbParser;
import io.backupkit.redis.internal.RedisUrl;
import io.backupkit.redis.internal.RedisVersions;
import io.backupkit.redis.internal.ReplicationStream;
import io.backupkit.redis.internal.RespConnection;
import io.backupkit.redis.internal.SnapshotStats;
import io.backupkit.redis.internal.TeeInputStream;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Backs up a whole Redis instance (every logical database) as one point-in-time RDB snapshot, taken
 * the way a replica or {@code redis-cli --rdb} takes it: over the replication protocol ({@code SYNC}),
 * so the server forks once and the RDB is consistent as of that fork. No key scan. The RDB is
 * streamed into the repository as stream {@value #STREAM} (no temporary file here; the server writes
 * one only when {@link Builder#diskless(boolean)} is off) and parsed while it passes: the backup fails
 * on a damaged RDB (checksum, framing) or a value type backupkit cannot restore, and records per
 * database key counts and content digests, the RDB version and the server version.
 *
 * <p>The user needs {@code +info +replconf +sync +psync} (for an ACL user, e.g.
 * {@code ACL SETUSER backup on >secret +info +replconf +sync +psync}). A server with
 * {@code repl-diskless-sync yes} (the default since 7.0) waits {@code repl-diskless-sync-delay}
 * seconds (5 by default) for more replicas before it starts.
 *
 * <pre>{@code
 * BackupSource source = RedisSource.builder().url("redis://backup@cache.internal:6379").password(secret).build();
 * }</pre>
 */
public final class RedisSource implements BackupSource {
    /** The one stream of a Redis snapshot: the RDB file. */
    public static final String STREAM = "dump.rdb";
    /** The snapshot format written in the manifest metadata. */
    public static final String FORMAT = "backupkit-redis/1";

    private final RedisUrl url;
    private final char[] password;
    private final boolean diskless;
    private final Duration timeout;

    private RedisSource(Builder b) {
        this.url = Objects.requireNonNull(b.url, "url is required");
        this.password = b.password;
        this.diskless = b.diskless;
        this.timeout = b.timeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String engine() {
        return RedisEngine.NAME;
    }

    @Override
    public String describe() {
        return url.toString();
    }

    @Override
    public void backup(BackupContext context) {
        try (RespConnection c = RespConnection.open(url, password, timeout)) {
            String version = c.info("server", "redis_version");
            if (version == null) {
                throw new EngineException("Redis at " + url + " did not report redis_version in INFO server");
            }
            if (!RedisVersions.supported(version)) {
                throw new ConfigurationException("Redis " + version + " at " + url + " is too old: backupkit needs Redis "
                        + RedisVersions.MIN_MAJOR + ".0 or later");
            }
            String role = c.info("replication", "role");
            try (ReplicationStream sync = ReplicationStream.start(c, diskless, RedisVersions.hasRdbOnly(version))) {
                if (sync.announcedLength() > 0) {
                    context.expectedBytes(sync.announcedLength());
                }
                SnapshotStats stats = new SnapshotStats(0, 0);
                RdbParser.Result result;
                try (OutputStream out = new BufferedOutputStream(context.newStream(STREAM), 1 << 16)) {
                    RdbParser parser = new RdbParser(new TeeInputStream(sync.rdb(), out), false);
                    result = parser.parse(stats);
                    sync.finish();
                }
                context.putMetadata("format", FORMAT);
                context.putMetadata("method", "replication-sync");
                context.putMetadata("transfer", sync.transfer());
                context.putMetadata("redisVersion", version);
                context.putMetadata("role", role == null ? "unknown" : role);
                context.putMetadata("rdbVersion", result.version());
                context.putMetadata("rdbBytes", result.bytes());
                context.putMetadata("checksumVerified", result.checksumValid());
                Map<String, Object> aux = new LinkedHashMap<>();
                stats.aux().forEach((k, v) -> {
                    if (!k.equals("repl-id")) {
                        aux.put(k, v);
                    }
                });
                context.putMetadata("aux", aux);
                context.putMetadata("keys", stats.keys());
                context.putMetadata("databases", stats.describeDatabases());
                Map<String, Object> kinds = new LinkedHashMap<>();
                stats.kinds().forEach((k, n) -> kinds.put(k.name(), n));
                context.putMetadata("types", kinds);
                context.putMetadata("functions", stats.functions().size());
            }
        } catch (RdbFormatException e) {
            throw new EngineException("the RDB from Redis at " + url + " cannot be backed up: " + e.getMessage(), e);
        } catch (IOException e) {
            if (RespConnection.isTimeout(e)) {
                throw new EngineException("Redis at " + url + " sent nothing for " + timeout.toSeconds() + " s during the RDB transfer; "
                        + "raise the timeout option if the server needs longer to fork", e);
            }
            throw new UncheckedIOException("RDB transfer from Redis at " + url + " failed: " + e.getMessage(), e);
        }
    }

    /** Builds a {@link RedisSource}; {@link #url(String)} is required. */
    public static final class Builder {
        private RedisUrl url;
        private char[] password;
        private boolean diskless = true;
        private Duration timeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** {@code redis://[USER@]HOST[:PORT]}. */
        public Builder url(String url) {
            this.url = RedisUrl.parse(url);
            return this;
        }

        /** The password of the URL's user (or of the default user). */
        public Builder password(char[] password) {
            this.password = password == null ? null : Arrays.copyOf(password, password.length);
            return this;
        }

        /**
         * Whether the server may stream the RDB without writing it to its own disk (default true, as
         * {@code redis-cli --rdb}); false makes it write {@code dump.rdb} in its data directory first.
         */
        public Builder diskless(boolean diskless) {
            this.diskless = diskless;
            return this;
        }

        /** How long a connection may stay silent (default 60 s; the server sends keep-alives every second while it forks). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public RedisSource build() {
            return new RedisSource(this);
        }
    }
}
