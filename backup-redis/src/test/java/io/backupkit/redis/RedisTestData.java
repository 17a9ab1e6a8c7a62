package io.backupkit.redis;

import io.backupkit.redis.testing.EphemeralRedis;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.Tuple;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Fills a Redis server with every type in every encoding, and reads a server back for comparison. */
final class RedisTestData {
    static final int[] DATABASES = {0, 3, 15};

    private RedisTestData() {
    }

    static Jedis jedis(EphemeralRedis r) {
        DefaultJedisClientConfig.Builder cfg = DefaultJedisClientConfig.builder().socketTimeoutMillis(60_000);
        r.user().ifPresent(cfg::user);
        r.password().ifPresent(p -> cfg.password(new String(p)));
        return new Jedis(new HostAndPort(r.host(), r.port()), cfg.build());
    }

    /** Strings (binary, integer, long compressible), hashes, lists, sets, sorted sets (small and large), streams, TTLs. */
    static void fill(EphemeralRedis r, int scale, long seed) {
        Random rnd = new Random(seed);
        try (Jedis j = jedis(r)) {
            for (int db : DATABASES) {
                j.select(db);
                try (Pipeline p = j.pipelined()) {
                    String prefix = "db" + db + ":";
                    for (int i = 0; i < scale; i++) {
                        p.set(prefix + "str:" + i, "value-" + i + "-äöü-€");
                        p.set((prefix + "int:" + i).getBytes(StandardCharsets.UTF_8), Long.toString(rnd.nextLong()).getBytes(StandardCharsets.UTF_8));
                    }
                    byte[] binary = new byte[300];
                    rnd.nextBytes(binary);
                    p.set((prefix + "binary\u0000key\u00ff").getBytes(StandardCharsets.ISO_8859_1), binary);
                    p.set(prefix + "long-compressible", "abc".repeat(20_000));
                    p.set(prefix + "empty", "");
                    // small hash (listpack) and large hash (hashtable)
                    for (int i = 0; i < 10; i++) {
                        p.hset(prefix + "hash:small", "f" + i, "v" + i);
                    }
                    for (int i = 0; i < 1000 + scale; i++) {
                        p.hset(prefix + "hash:big", "field-" + i, Integer.toString(i * 7));
                    }
                    // lists: small (one listpack node) and large (many quicklist nodes), with integers and a big element
                    for (int i = 0; i < 5; i++) {
                        p.rpush(prefix + "list:small", "e" + i, Integer.toString(i - 2));
                    }
                    for (int i = 0; i < 3000 + scale; i++) {
                        p.rpush(prefix + "list:big", "element-" + i);
                    }
                    p.rpush(prefix + "list:big", "x".repeat(10_000));
                    // sets: intset, small strings, large
                    for (int i = 0; i < 20; i++) {
                        p.sadd(prefix + "set:ints", Integer.toString(i * 1000 - 5000));
                        p.sadd(prefix + "set:small", "m" + i);
                    }
                    p.sadd(prefix + "set:ints", Long.toString(Long.MAX_VALUE), Long.toString(Long.MIN_VALUE));
                    for (int i = 0; i < 1000 + scale; i++) {
                        p.sadd(prefix + "set:big", "member-" + i);
                    }
                    // sorted sets: listpack and skiplist, with negative, fractional, infinite scores
                    for (int i = 0; i < 10; i++) {
                        p.zadd(prefix + "zset:small", i * 1.5 - 3, "z" + i);
                    }
                    p.zadd(prefix + "zset:small", Double.POSITIVE_INFINITY, "top");
                    p.zadd(prefix + "zset:small", Double.NEGATIVE_INFINITY, "bottom");
                    for (int i = 0; i < 1000 + scale; i++) {
                        p.zadd(prefix + "zset:big", rnd.nextDouble() * 1e6, "player-" + i);
                    }
                    // keys with TTLs
                    for (int i = 0; i < 50; i++) {
                        p.psetex(prefix + "ttl:" + i, 3_600_000L + i * 1000L, "expiring-" + i);
                    }
                    p.hset(prefix + "ttl:hash", "a", "b");
                    p.pexpire(prefix + "ttl:hash", 7_200_000L);
                    p.sync();
                }
                // a stream with several listpack nodes, deleted entries, two groups with pending entries and consumers
                String stream = "db" + db + ":stream";
                try (Pipeline p = j.pipelined()) {
                    for (int i = 0; i < 300 + scale; i++) {
                        if (i % 3 == 0) {
                            p.xadd(stream, XAddParams.xAddParams(), Map.of("sensor", "s" + (i % 5), "value", Integer.toString(i)));
                        } else {
                            p.xadd(stream, XAddParams.xAddParams(), Map.of("sensor", "s" + (i % 5), "value", Integer.toString(i), "extra", "e" + i));
                        }
                    }
                    p.sync();
                }
                List<StreamEntry> some = j.xrange(stream, (StreamEntryID) null, (StreamEntryID) null, 10);
                j.xdel(stream, some.get(2).getID(), some.get(5).getID());
                j.xgroupCreate(stream, "workers", new StreamEntryID(), false);
                j.xgroupCreate(stream, "audit", some.get(7).getID(), false);
                j.sendCommand(redis.clients.jedis.Protocol.Command.XREADGROUP, "GROUP", "workers", "alice", "COUNT", "5", "STREAMS", stream, ">");
                j.xadd("db" + db + ":stream:empty", XAddParams.xAddParams(), Map.of("a", "1"));
                j.sendCommand(redis.clients.jedis.Protocol.Command.XTRIM, "db" + db + ":stream:empty", "MAXLEN", "0");
            }
            j.select(0);
        }
    }

    /** Everything a server holds: db → key → type and value (as text), and db → key → PTTL. */
    record Dump(Map<Integer, Map<String, String>> values, Map<Integer, Map<String, Long>> ttls) {
        long keys() {
            return values.values().stream().mapToLong(Map::size).sum();
        }
    }

    static Dump dump(EphemeralRedis r) {
        Map<Integer, Map<String, String>> values = new TreeMap<>();
        Map<Integer, Map<String, Long>> ttls = new TreeMap<>();
        try (Jedis j = jedis(r)) {
            for (int db = 0; db < 16; db++) {
                j.select(db);
                Map<String, String> v = new TreeMap<>();
                Map<String, Long> t = new TreeMap<>();
                String cursor = ScanParams.SCAN_POINTER_START;
                do {
                    ScanResult<byte[]> sr = j.scan(cursor.getBytes(StandardCharsets.UTF_8), new ScanParams().count(1000));
                    cursor = sr.getCursor();
                    List<byte[]> keys = sr.getResult();
                    List<redis.clients.jedis.Response<String>> types = new ArrayList<>();
                    List<redis.clients.jedis.Response<Long>> pttls = new ArrayList<>();
                    try (Pipeline p = j.pipelined()) {
                        for (byte[] k : keys) {
                            types.add(p.type(k));
                            pttls.add(p.pttl(k));
                        }
                        p.sync();
                    }
                    List<redis.clients.jedis.Response<?>> vals = new ArrayList<>();
                    try (Pipeline p = j.pipelined()) {
                        for (int i = 0; i < keys.size(); i++) {
                            byte[] k = keys.get(i);
                            vals.add(switch (types.get(i).get()) {
                                case "string" -> p.get(k);
                                case "list" -> p.lrange(k, 0, -1);
                                case "set" -> p.smembers(k);
                                case "hash" -> p.hgetAll(k);
                                case "zset" -> p.zrangeWithScores(k, 0, -1);
                                default -> null;
                            });
                        }
                        p.sync();
                    }
                    for (int i = 0; i < keys.size(); i++) {
                        byte[] k = keys.get(i);
                        String name = HexFormat.of().formatHex(k);
                        String type = types.get(i).get();
                        Object val = vals.get(i) == null ? null : vals.get(i).get();
                        v.put(name, type + "=" + (type.equals("stream") ? value(j, k, type) : render(type, val)));
                        t.put(name, pttls.get(i).get());
                    }
                } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
                if (!v.isEmpty()) {
                    values.put(db, v);
                    ttls.put(db, t);
                }
            }
            j.select(0);
        }
        return new Dump(values, ttls);
    }

    @SuppressWarnings("unchecked")
    private static String render(String type, Object val) {
        return switch (type) {
            case "string" -> HexFormat.of().formatHex((byte[]) val);
            case "list" -> ((List<byte[]>) val).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList().toString();
            case "set" -> new java.util.TreeSet<>(((java.util.Set<byte[]>) val).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList()).toString();
            case "hash" -> {
                Map<String, String> m = new TreeMap<>();
                ((Map<byte[], byte[]>) val).forEach((f, x) -> m.put(new String(f, StandardCharsets.UTF_8), new String(x, StandardCharsets.UTF_8)));
                yield m.toString();
            }
            case "zset" -> {
                List<String> l = new ArrayList<>();
                for (Tuple t : (List<Tuple>) val) {
                    l.add(t.getElement() + "@" + t.getScore());
                }
                yield l.toString();
            }
            default -> type;
        };
    }

    private static String value(Jedis j, byte[] k, String type) {
        return switch (type) {
            case "string" -> HexFormat.of().formatHex(j.get(k));
            case "list" -> j.lrange(k, 0, -1).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList().toString();
            case "set" -> new java.util.TreeSet<>(j.smembers(k).stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList()).toString();
            case "hash" -> {
                Map<String, String> m = new TreeMap<>();
                j.hgetAll(k).forEach((f, x) -> m.put(new String(f, StandardCharsets.UTF_8), new String(x, StandardCharsets.UTF_8)));
                yield m.toString();
            }
            case "zset" -> {
                List<String> l = new ArrayList<>();
                for (Tuple t : j.zrangeWithScores(k, 0, -1)) {
                    l.add(t.getElement() + "@" + t.getScore());
                }
                yield l.toString();
            }
            case "stream" -> {
                String key = new String(k, StandardCharsets.UTF_8);
                StringBuilder s = new StringBuilder();
                for (StreamEntry e : j.xrange(key, (StreamEntryID) null, (StreamEntryID) null)) {
                    s.append(e.getID()).append(new TreeMap<>(e.getFields())).append(';');
                }
                var info = j.xinfoStream(key);
                s.append(" length=").append(info.getLength()).append(" last=").append(info.getLastGeneratedId());
                j.xinfoGroups(key).forEach(g -> s.append(" group ").append(g.getName()).append(" last=").append(g.getLastDeliveredId())
                        .append(" pending=").append(g.getPending()).append(" consumers=").append(g.getConsumers()));
                yield s.toString();
            }
            default -> type;
        };
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String printable(byte[] b) {
        return Arrays.toString(b);
    }
}
