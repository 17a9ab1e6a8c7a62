package io.backupkit.redis.internal;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What an RDB holds per logical database: key count, keys with a TTL, and the sum of key digests;
 * optionally split at an expiry cutoff (keys expiring before it may vanish while they are compared).
 */
public final class SnapshotStats implements RdbParser.Visitor {
    /** Per-database figures. */
    public static final class Db {
        public long keys;
        public long expires;
        public final KeyDigest.Sum digest = new KeyDigest.Sum();
        /** Keys expiring before the cutoff: present or not, not part of {@link #digest}. */
        public long volatileKeys;
        /** Keys whose expiry had passed (not restored). */
        public long expired;
        /** Every key read, whatever its expiry, and the sum of all their digests (what a backup records). */
        public long allKeys;
        public final KeyDigest.Sum allDigest = new KeyDigest.Sum();
    }

    private final Map<Integer, Db> dbs = new TreeMap<>();
    private final Map<KeyDigest.Kind, Long> kinds = new EnumMap<>(KeyDigest.Kind.class);
    private final Map<String, String> aux = new LinkedHashMap<>();
    private final List<byte[]> functions = new ArrayList<>();
    private final long now;
    private final long cutoff;
    private KeyDigest current;

    /**
     * @param now    keys expiring at or before this instant (Unix ms) count as expired; 0 = none are
     * @param cutoff keys expiring before this instant count as volatile; 0 = none are
     */
    public SnapshotStats(long now, long cutoff) {
        this.now = now;
        this.cutoff = cutoff;
    }

    @Override
    public void aux(String key, String value) {
        aux.put(key, value);
    }

    @Override
    public ValueSink sinkFor(int db, byte[] key, KeyDigest.Kind kind) {
        current = new KeyDigest(key, kind);
        return current;
    }

    @Override
    public void key(int db, byte[] key, int type, long expireAtMs, byte[] payloadBody) {
        Db d = dbs.computeIfAbsent(db, k -> new Db());
        kinds.merge(current.kind(), 1L, Long::sum);
        byte[] digest = current.kind() == KeyDigest.Kind.module ? null : current.digest();
        d.allKeys++;
        if (digest != null) {
            d.allDigest.add(digest);
        }
        if (expireAtMs >= 0 && now > 0 && expireAtMs <= now) {
            d.expired++;
            return;
        }
        d.keys++;
        if (expireAtMs >= 0) {
            d.expires++;
        }
        if (expireAtMs >= 0 && cutoff > 0 && expireAtMs < cutoff) {
            d.volatileKeys++;
        } else if (digest != null) {
            d.digest.add(digest);
        }
    }

    /** Whether a key with this expiry is not restored because it has expired. */
    public boolean expiredAt(long expireAtMs) {
        return expireAtMs >= 0 && now > 0 && expireAtMs <= now;
    }

    @Override
    public void function(byte[] code) {
        functions.add(code);
    }

    public Map<Integer, Db> databases() {
        return dbs;
    }

    public Map<KeyDigest.Kind, Long> kinds() {
        return kinds;
    }

    public Map<String, String> aux() {
        return aux;
    }

    public List<byte[]> functions() {
        return functions;
    }

    /** Every key read (expired or not). */
    public long keys() {
        return dbs.values().stream().mapToLong(d -> d.allKeys).sum();
    }

    /** The manifest form: [{db, keys, expires, digest}]. */
    public List<Map<String, Object>> describeDatabases() {
        List<Map<String, Object>> out = new ArrayList<>();
        dbs.forEach((db, d) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("db", db);
            m.put("keys", d.allKeys);
            m.put("expires", d.expires + d.expired);
            m.put("digest", d.allDigest.hex());
            out.add(m);
        });
        return out;
    }
}
