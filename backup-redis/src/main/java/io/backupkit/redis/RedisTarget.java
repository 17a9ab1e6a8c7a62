package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.IntegrityException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.TargetExistsException;
import io.backupkit.VerificationCheck;
import io.backupkit.redis.internal.Crc64;
import io.backupkit.redis.internal.RdbFormatException;
import io.backupkit.redis.internal.RdbParser;
import io.backupkit.redis.internal.RedisUrl;
import io.backupkit.redis.internal.RedisVersions;
import io.backupkit.redis.internal.RespConnection;
import io.backupkit.redis.internal.SnapshotStats;
import io.backupkit.redis.internal.TargetScanner;
import io.backupkit.redis.internal.ValueSink;
import io.backupkit.redis.internal.KeyDigest;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.commands.ProtocolCommand;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Restores a Redis snapshot into a running server: the RDB is read from the repository, parsed, and
 * every key is replayed with {@code RESTORE key <absolute expiry> <payload> ABSTTL} (pipelined), each
 * logical database into the same index; function libraries with {@code FUNCTION LOAD}. Keys whose TTL
 * ran out since the backup are not restored. Afterwards the server is read back (SCAN and the read
 * command of each type) and compared with the snapshot: key count and content digest per database;
 * a mismatch throws {@link IntegrityException}.
 *
 * <p>The target must be empty: a server holding keys (or functions) is refused with
 * {@link TargetExistsException} unless {@link Builder#dropExisting()} is set, which runs
 * {@code FLUSHALL} first. Its Redis version must be able to load the snapshot's RDB version (a 7.2
 * snapshot needs a 7.2 or later server).
 *
 * <p>To place the RDB into a data directory instead (a stopped server), restore with
 * {@link RedisRdbFileTarget} ({@code rdb:PATH}); docs/sqlite-redis.md has the procedure.
 *
 * <pre>{@code
 * RestoreTarget target = RedisTarget.builder().url("redis://127.0.0.1:6380").password(secret).build();
 * RestoreManager.builder().repository(repo).snapshot("latest").target(target).build().restore();
 * }</pre>
 */
public final class RedisTarget implements RestoreTarget {
    /** Keys expiring within this margin of the restore's start may vanish before they are compared. */
    static final Duration VOLATILE_MARGIN = Duration.ofMinutes(15);
    private static final int PIPELINE_COMMANDS = 1000;
    private static final long PIPELINE_BYTES = 2L << 20;

    private final RedisUrl url;
    private final char[] password;
    private final boolean dropExisting;
    private final boolean compare;
    private final Duration timeout;

    private RedisTarget(Builder b) {
        this.url = Objects.requireNonNull(b.url, "url is required");
        this.password = b.password;
        this.dropExisting = b.dropExisting;
        this.compare = b.compare;
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
    public RestorePlan plan(RestoreContext context) {
        Snapshot s = context.snapshot();
        SnapshotStream stream = stream(s);
        List<String> actions = new ArrayList<>();
        actions.add("check that Redis at " + url + " can load RDB version " + s.metadata().getOrDefault("rdbVersion", "?") + " and is empty"
                + (dropExisting ? " (else FLUSHALL it first)" : " (else refuse)"));
        Object dbs = s.metadata().get("databases");
        actions.add("restore " + s.metadata().getOrDefault("keys", "?") + " keys" + (dbs instanceof List<?> l ? " into " + l.size()
                + " logical database(s)" : "") + " with RESTORE … ABSTTL, skipping keys whose TTL has run out");
        Object functions = s.metadata().get("functions");
        if (functions instanceof Number n && n.intValue() > 0) {
            actions.add("load " + n + " function librar" + (n.intValue() == 1 ? "y" : "ies"));
        }
        if (compare) {
            actions.add("compare key counts and content digests of every database with the snapshot");
        }
        return new RestorePlan(describe(), actions, stream.size());
    }

    @Override
    public void restore(RestoreContext context) {
        List<VerificationCheck> checks = restoreAndCompare(context, dropExisting);
        List<String> failed = checks.stream().filter(VerificationCheck::failed).map(c -> c.name() + ": " + c.message()).toList();
        if (!failed.isEmpty()) {
            throw new IntegrityException("snapshot " + context.snapshot().shortId(), "the restore into " + url + " finished but does not "
                    + "match the snapshot: " + String.join("; ", failed) + " (another client writing to the target, eviction under "
                    + "maxmemory, or a damaged snapshot)");
        }
    }

    /**
     * Restores into this (empty) server, compares it with the snapshot and flushes it again: COMPREHENSIVE
     * verification with a scratch Redis server. Refused when the server holds data.
     */
    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        List<VerificationCheck> checks;
        try {
            checks = new ArrayList<>(restoreAndCompare(context, false));
        } finally {
            try (Jedis j = connect()) {
                j.flushAll();
            }
        }
        return checks;
    }

    private List<VerificationCheck> restoreAndCompare(RestoreContext context, boolean flushFirst) {
        Snapshot s = context.snapshot();
        SnapshotStream stream = stream(s);
        int snapshotRdb = s.metadata().get("rdbVersion") instanceof Number n ? n.intValue() : 0;
        List<VerificationCheck> checks = new ArrayList<>();
        try (Jedis j = connect()) {
            String version = info(j, "server", "redis_version");
            if (version == null || !RedisVersions.supported(version)) {
                throw new ConfigurationException("Redis " + version + " at " + url + " is too old: backupkit restores into Redis "
                        + RedisVersions.MIN_MAJOR + ".0 or later");
            }
            int targetRdb = RedisVersions.rdbVersion(version);
            if (snapshotRdb > targetRdb) {
                throw new ConfigurationException("Redis " + version + " at " + url + " is too old for snapshot " + s.shortId() + ": it loads "
                        + "RDB versions up to " + targetRdb + ", the snapshot is RDB version " + snapshotRdb + " (from Redis "
                        + s.metadata().getOrDefault("redisVersion", "?") + "); restore into Redis " + s.metadata().getOrDefault("redisVersion", "?")
                        + " or later");
            }
            if ("slave".equals(info(j, "replication", "role"))) {
                throw new ConfigurationException("Redis at " + url + " is a replica (read-only); restore into a primary");
            }
            Map<Integer, Long> existing = keyspace(j);
            long functions = RedisVersions.hasRdbOnly(version) ? functionCount(j) : 0;
            if (!existing.isEmpty() || functions > 0) {
                if (!flushFirst) {
                    long keys = existing.values().stream().mapToLong(Long::longValue).sum();
                    throw new TargetExistsException("Redis at " + url, "Redis at " + url + " is not empty: it holds " + keys + " keys in "
                            + "database(s) " + existing.keySet() + (functions > 0 ? " and " + functions + " function libraries" : "")
                            + "; nothing was changed. Restore into an empty server, or flush it first (RedisTarget.builder().dropExisting(true), "
                            + "engine option dropExisting=true, CLI --drop-existing --yes)");
                }
                j.flushAll();
                if (functions > 0) {
                    j.sendCommand(Protocol.Command.FUNCTION, bytes("FLUSH"));
                }
            }
            long now = System.currentTimeMillis();
            long cutoff = now + VOLATILE_MARGIN.toMillis();
            Replayer replayer = new Replayer(j, new SnapshotStats(now, cutoff), snapshotRdb);
            RdbParser.Result result;
            try (InputStream in = context.openStream(stream.name())) {
                result = new RdbParser(in, true).parse(replayer);
                replayer.flush();
                if (in.read() >= 0) {
                    throw new IntegrityException("snapshot " + s.shortId(), "stream " + stream.name() + " has bytes after the end of the RDB");
                }
            } catch (RdbFormatException e) {
                throw new IntegrityException("snapshot " + s.shortId(), "stream " + stream.name() + " is not a valid RDB: " + e.getMessage());
            } catch (IOException e) {
                throw new UncheckedIOException("reading snapshot " + s.shortId() + " failed: " + e.getMessage(), e);
            }
            for (byte[] code : replayer.stats.functions()) {
                j.functionLoadReplace(code);
            }
            checks.add(result.checksumValid() ? VerificationCheck.passed("RDB checksum", "CRC-64 matches")
                    : VerificationCheck.skipped("RDB checksum", "the RDB was written without a checksum"));
            checks.add(VerificationCheck.passed("restore into " + url, replayer.restored + " keys restored, " + replayer.expired
                    + " expired keys skipped"));
            recordedDigests(s, replayer.stats, checks);
            if (compare) {
                compare(j, version, replayer.stats, cutoff, checks);
            }
        } catch (JedisDataException e) {
            throw translate(e, "restore");
        }
        return checks;
    }

    /** The digests of the RDB read now against those recorded when it was backed up. */
    private static void recordedDigests(Snapshot s, SnapshotStats stats, List<VerificationCheck> checks) {
        if (!(s.metadata().get("databases") instanceof List<?> recorded)) {
            return;
        }
        for (Object o : recorded) {
            if (o instanceof Map<?, ?> m && m.get("db") instanceof Number db) {
                SnapshotStats.Db d = stats.databases().get(db.intValue());
                String actual = d == null ? new KeyDigest.Sum().hex() : d.allDigest.hex();
                checks.add(Objects.equals(m.get("digest"), actual)
                        ? VerificationCheck.passed("snapshot digest db" + db, "as recorded at backup")
                        : VerificationCheck.failed("snapshot digest db" + db, "recorded " + m.get("digest") + ", read " + actual));
            }
        }
    }

    private void compare(Jedis j, String version, SnapshotStats stats, long cutoff, List<VerificationCheck> checks) {
        Map<Integer, SnapshotStats.Db> expected = stats.databases();
        Map<Integer, Long> present = keyspace(j);
        java.util.Set<Integer> dbs = new java.util.TreeSet<>(expected.keySet());
        dbs.addAll(present.keySet());
        Map<Integer, SnapshotStats.Db> actual = TargetScanner.scan(j, dbs, cutoff, RedisVersions.hasPexpiretime(version));
        j.select(0);
        for (int db : dbs) {
            SnapshotStats.Db e = expected.getOrDefault(db, new SnapshotStats.Db());
            SnapshotStats.Db a = actual.getOrDefault(db, new SnapshotStats.Db());
            long stableE = e.keys - e.volatileKeys;
            long stableA = a.keys - a.volatileKeys;
            boolean countOk = stableE == stableA && a.keys >= stableE && a.keys <= e.keys;
            checks.add(countOk ? VerificationCheck.passed("key count db" + db, a.keys + " keys" + (e.volatileKeys > 0
                    ? " (" + e.volatileKeys + " expiring within " + VOLATILE_MARGIN.toMinutes() + " min, not compared)" : ""))
                    : VerificationCheck.failed("key count db" + db, "snapshot " + e.keys + " keys (" + e.volatileKeys + " expiring soon), "
                    + "server " + a.keys + " (" + a.volatileKeys + " expiring soon)"));
            checks.add(Arrays.equals(e.digest.bytes(), a.digest.bytes()) ? VerificationCheck.passed("content digest db" + db, e.digest.hex())
                    : VerificationCheck.failed("content digest db" + db, "snapshot " + e.digest.hex() + ", server " + a.digest.hex()));
        }
    }

    /** Replays each key of the RDB with RESTORE, pipelined, while the parser reads. */
    private final class Replayer implements RdbParser.Visitor {
        final SnapshotStats stats;
        private final Jedis jedis;
        private final byte[] footerVersion;
        private Pipeline pipeline;
        private final List<Response<Object>> pending = new ArrayList<>();
        private final List<byte[]> pendingKeys = new ArrayList<>();
        private long pendingBytes;
        private int currentDb = -1;
        long restored;
        long expired;

        Replayer(Jedis jedis, SnapshotStats stats, int rdbVersion) {
            this.jedis = jedis;
            this.stats = stats;
            this.footerVersion = new byte[] {(byte) rdbVersion, (byte) (rdbVersion >> 8)};
        }

        @Override
        public void aux(String key, String value) {
            stats.aux(key, value);
        }

        @Override
        public ValueSink sinkFor(int db, byte[] key, KeyDigest.Kind kind) {
            return stats.sinkFor(db, key, kind);
        }

        @Override
        public void function(byte[] code) {
            stats.function(code);
        }

        @Override
        public void key(int db, byte[] key, int type, long expireAtMs, byte[] body) {
            stats.key(db, key, type, expireAtMs, body);
            if (stats.expiredAt(expireAtMs)) {
                expired++;
                return;
            }
            if (db != currentDb) {
                // switch synchronously: a refused SELECT must not send the following keys into the previous database
                flush();
                try {
                    jedis.select(db);
                } catch (JedisDataException e) {
                    if (String.valueOf(e.getMessage()).contains("out of range")) {
                        throw new ConfigurationException("Redis at " + url + " has fewer logical databases than the snapshot uses "
                                + "(database " + db + "); raise 'databases' in its configuration", e);
                    }
                    throw translate(e, "SELECT");
                }
                currentDb = db;
            }
            if (pipeline == null) {
                pipeline = jedis.pipelined();
            }
            byte[] payload = Arrays.copyOf(body, body.length + 10);
            payload[body.length] = footerVersion[0];
            payload[body.length + 1] = footerVersion[1];
            long crc = Crc64.of(payload, 0, body.length + 2);
            for (int i = 0; i < 8; i++) {
                payload[body.length + 2 + i] = (byte) (crc >>> (8 * i));
            }
            byte[] ttl = bytes(Long.toString(Math.max(0, expireAtMs)));
            pending.add(expireAtMs >= 0
                    ? pipeline.sendCommand(Cmd.RESTORE, key, ttl, payload, bytes("ABSTTL"))
                    : pipeline.sendCommand(Cmd.RESTORE, key, bytes("0"), payload));
            pendingKeys.add(key);
            pendingBytes += payload.length + key.length;
            restored++;
            if (pending.size() >= PIPELINE_COMMANDS || pendingBytes >= PIPELINE_BYTES) {
                flush();
            }
        }

        void flush() {
            if (pipeline == null) {
                return;
            }
            try {
                pipeline.close(); // sends and reads everything pending; the connection is usable again
                for (int i = 0; i < pending.size(); i++) {
                    try {
                        pending.get(i).get();
                    } catch (JedisDataException e) {
                        throw keyFailed(pendingKeys.get(i), e);
                    }
                }
            } finally {
                pipeline = null;
                pending.clear();
                pendingKeys.clear();
                pendingBytes = 0;
            }
        }

        private RuntimeException keyFailed(byte[] key, JedisDataException e) {
            String k = new String(key, 0, Math.min(key.length, 100), StandardCharsets.UTF_8);
            String m = e.getMessage() == null ? "" : e.getMessage();
            if (m.startsWith("BUSYKEY")) {
                return new EngineException("key '" + k + "' appeared in " + url + " during the restore (" + m + "): another client is "
                        + "writing to the target; restore into a server nobody else uses", e);
            }
            return new EngineException("Redis at " + url + " refused RESTORE of key '" + k + "': " + m, e);
        }
    }

    private Jedis connect() {
        DefaultJedisClientConfig.Builder cfg = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis((int) timeout.toMillis()).socketTimeoutMillis((int) timeout.toMillis());
        if (url.user() != null) {
            cfg.user(url.user());
        }
        if (password != null && password.length > 0) {
            cfg.password(new String(password));
        }
        try {
            Jedis j = new Jedis(new HostAndPort(url.host(), url.port()), cfg.build());
            j.ping();
            return j;
        } catch (JedisAccessControlException e) {
            throw RespConnection.authFailed(url, firstLine(e));
        } catch (JedisConnectionException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new EngineException("cannot connect to Redis at " + url + ": " + firstLine(cause) + "; check that the server runs and "
                    + "listens on that address", e);
        } catch (JedisDataException e) {
            throw translate(e, "PING");
        }
    }

    private RuntimeException translate(JedisDataException e, String what) {
        return RespConnection.commandFailed(url, what, firstLine(e));
    }

    private static String firstLine(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static String info(Jedis j, String section, String field) {
        for (String l : j.info(section).split("\r?\n")) {
            if (l.startsWith(field + ":")) {
                return l.substring(field.length() + 1).trim();
            }
        }
        return null;
    }

    /** Databases holding keys: "db3:keys=10,expires=2,avg_ttl=0". */
    static Map<Integer, Long> keyspace(Jedis j) {
        Map<Integer, Long> m = new TreeMap<>();
        for (String l : j.info("keyspace").split("\r?\n")) {
            if (l.startsWith("db") && l.contains(":keys=")) {
                int db = Integer.parseInt(l.substring(2, l.indexOf(':')));
                String rest = l.substring(l.indexOf(":keys=") + 6);
                long keys = Long.parseLong(rest.substring(0, rest.indexOf(',') < 0 ? rest.length() : rest.indexOf(',')));
                if (keys > 0) {
                    m.put(db, keys);
                }
            }
        }
        return m;
    }

    private static long functionCount(Jedis j) {
        Object r = j.sendCommand(Protocol.Command.FUNCTION, bytes("LIST"));
        return r instanceof List<?> l ? l.size() : 0;
    }

    private SnapshotStream stream(Snapshot s) {
        if (!RedisEngine.NAME.equals(s.engine())) {
            throw new ConfigurationException("snapshot " + s.shortId() + " is a " + s.engine() + " snapshot; the Redis target restores only "
                    + "redis snapshots");
        }
        return s.streams().stream().filter(st -> st.name().equals(RedisSource.STREAM)).findFirst()
                .orElseThrow(() -> new IntegrityException("snapshot " + s.shortId(), "the Redis snapshot has no stream '" + RedisSource.STREAM + "'"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private enum Cmd implements ProtocolCommand {
        RESTORE;

        @Override
        public byte[] getRaw() {
            return name().getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** Builds a {@link RedisTarget}; {@link #url(String)} is required. */
    public static final class Builder {
        private RedisUrl url;
        private char[] password;
        private boolean dropExisting;
        private boolean compare = true;
        private Duration timeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** {@code redis://[USER@]HOST[:PORT]}. */
        public Builder url(String url) {
            this.url = RedisUrl.parse(url);
            return this;
        }

        public Builder password(char[] password) {
            this.password = password == null ? null : Arrays.copyOf(password, password.length);
            return this;
        }

        /** Restore into a server that holds data: FLUSHALL (every database, and its functions) first. */
        public Builder dropExisting() {
            return dropExisting(true);
        }

        public Builder dropExisting(boolean dropExisting) {
            this.dropExisting = dropExisting;
            return this;
        }

        /** Whether to read the server back and compare counts and digests after the restore (default true). */
        public Builder compare(boolean compare) {
            this.compare = compare;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public RedisTarget build() {
            return new RedisTarget(this);
        }
    }
}
