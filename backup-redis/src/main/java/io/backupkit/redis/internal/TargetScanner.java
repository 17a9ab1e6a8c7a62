package io.backupkit.redis.internal;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.commands.ProtocolCommand;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads every key of a server through commands (SCAN, TYPE, PEXPIRETIME, and the read command of each
 * type) and computes the same per-database figures as {@link SnapshotStats} computes from an RDB, so a
 * restore can be compared with its snapshot: key counts and content digests.
 */
public final class TargetScanner {
    private static final int BATCH = 500;
    private static final byte[] ZERO = {'0'};

    private TargetScanner() {
    }

    /**
     * @param databases the logical databases to read
     * @param cutoff    keys expiring before this Unix-ms instant are counted as volatile and left out of the digest
     * @param pexpiretime whether the server has PEXPIRETIME (else PTTL and the local clock)
     */
    public static Map<Integer, SnapshotStats.Db> scan(Jedis jedis, Iterable<Integer> databases, long cutoff, boolean pexpiretime) {
        Map<Integer, SnapshotStats.Db> out = new TreeMap<>();
        for (int db : databases) {
            jedis.select(db);
            SnapshotStats.Db d = new SnapshotStats.Db();
            byte[] cursor = ZERO;
            do {
                List<?> r = (List<?>) jedis.sendCommand(Protocol.Command.SCAN, cursor, bytes("COUNT"), bytes(Integer.toString(BATCH)));
                cursor = (byte[]) r.get(0);
                List<byte[]> keys = new ArrayList<>();
                for (Object k : (List<?>) r.get(1)) {
                    keys.add((byte[]) k);
                }
                batch(jedis, keys, d, cutoff, pexpiretime);
            } while (!(cursor.length == 1 && cursor[0] == '0'));
            out.put(db, d);
        }
        return out;
    }

    private static void batch(Jedis jedis, List<byte[]> keys, SnapshotStats.Db d, long cutoff, boolean pexpiretime) {
        List<Response<Object>> types = new ArrayList<>();
        List<Response<Object>> ttls = new ArrayList<>();
        long now = System.currentTimeMillis();
        try (Pipeline p = jedis.pipelined()) {
            for (byte[] k : keys) {
                types.add(p.sendCommand(Protocol.Command.TYPE, k));
                ttls.add(p.sendCommand(pexpiretime ? Cmd.PEXPIRETIME : Protocol.Command.PTTL, k));
            }
            p.sync();
        }
        List<Integer> live = new ArrayList<>();
        List<KeyDigest> digests = new ArrayList<>();
        List<List<Response<Object>>> replies = new ArrayList<>();
        try (Pipeline p = jedis.pipelined()) {
            for (int i = 0; i < keys.size(); i++) {
                String type = text(types.get(i).get());
                long t = (Long) ttls.get(i).get();
                if (type.equals("none")) {
                    continue; // expired or deleted since SCAN
                }
                long expireAt = t < 0 ? -1 : pexpiretime ? t : now + t;
                d.keys++;
                if (expireAt >= 0) {
                    d.expires++;
                }
                if (expireAt >= 0 && expireAt < cutoff) {
                    d.volatileKeys++;
                    continue;
                }
                KeyDigest.Kind kind;
                try {
                    kind = KeyDigest.Kind.valueOf(type);
                } catch (IllegalArgumentException e) {
                    continue; // a module type: counted, not digested (as in SnapshotStats)
                }
                byte[] k = keys.get(i);
                live.add(i);
                digests.add(new KeyDigest(k, kind));
                List<Response<Object>> rs = new ArrayList<>();
                switch (kind) {
                    case string -> rs.add(p.sendCommand(Protocol.Command.GET, k));
                    case list -> rs.add(p.sendCommand(Protocol.Command.LRANGE, k, ZERO, bytes("-1")));
                    case set -> rs.add(p.sendCommand(Protocol.Command.SMEMBERS, k));
                    case hash -> rs.add(p.sendCommand(Protocol.Command.HGETALL, k));
                    case zset -> rs.add(p.sendCommand(Protocol.Command.ZRANGE, k, ZERO, bytes("-1"), bytes("WITHSCORES")));
                    case stream -> {
                        rs.add(p.sendCommand(Protocol.Command.XRANGE, k, bytes("-"), bytes("+")));
                        rs.add(p.sendCommand(Protocol.Command.XINFO, bytes("STREAM"), k));
                        rs.add(p.sendCommand(Protocol.Command.XINFO, bytes("GROUPS"), k));
                    }
                    default -> { }
                }
                replies.add(rs);
            }
            p.sync();
        }
        for (int j = 0; j < digests.size(); j++) {
            KeyDigest kd = digests.get(j);
            List<Response<Object>> rs = replies.get(j);
            feed(kd, rs);
            d.digest.add(kd.digest());
        }
    }

    private static void feed(KeyDigest kd, List<Response<Object>> rs) {
        Object v = rs.get(0).get();
        switch (kd.kind()) {
            case string -> {
                if (v != null) {
                    kd.string((byte[]) v);
                }
            }
            case list -> ((List<?>) v).forEach(e -> kd.listElement((byte[]) e));
            case set -> ((List<?>) v).forEach(e -> kd.setMember((byte[]) e));
            case hash -> {
                List<?> l = (List<?>) v;
                for (int i = 0; i < l.size(); i += 2) {
                    kd.hashField((byte[]) l.get(i), (byte[]) l.get(i + 1));
                }
            }
            case zset -> {
                List<?> l = (List<?>) v;
                for (int i = 0; i < l.size(); i += 2) {
                    kd.zsetMember((byte[]) l.get(i), RdbParser.parseDouble((byte[]) l.get(i + 1)));
                }
            }
            case stream -> {
                for (Object e : (List<?>) v) {
                    List<?> entry = (List<?>) e;
                    long[] id = id((byte[]) entry.get(0));
                    List<?> fv = (List<?>) entry.get(1);
                    byte[][] a = new byte[fv.size()][];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = (byte[]) fv.get(i);
                    }
                    kd.streamEntry(id[0], id[1], a);
                }
                Map<String, Object> info = flatMap((List<?>) rs.get(1).get());
                long[] last = id((byte[]) info.get("last-generated-id"));
                kd.streamMeta((Long) info.get("length"), last[0], last[1]);
                for (Object g : (List<?>) rs.get(2).get()) {
                    Map<String, Object> gi = flatMap((List<?>) g);
                    long[] gl = id((byte[]) gi.get("last-delivered-id"));
                    kd.streamGroup((byte[]) gi.get("name"), gl[0], gl[1]);
                }
            }
            default -> { }
        }
    }

    private static Map<String, Object> flatMap(List<?> l) {
        Map<String, Object> m = new TreeMap<>();
        for (int i = 0; i + 1 < l.size(); i += 2) {
            m.put(text(l.get(i)), l.get(i + 1));
        }
        return m;
    }

    private static long[] id(byte[] b) {
        String s = new String(b, StandardCharsets.US_ASCII);
        int dash = s.indexOf('-');
        return new long[] {Long.parseUnsignedLong(s.substring(0, dash)), Long.parseUnsignedLong(s.substring(dash + 1))};
    }

    static String text(Object o) {
        return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Commands Jedis's enum may not name. */
    enum Cmd implements ProtocolCommand {
        PEXPIRETIME, RESTORE;

        @Override
        public byte[] getRaw() {
            return name().getBytes(StandardCharsets.US_ASCII);
        }
    }
}
