package io.backupkit.redis.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Reads an RDB file (versions 1 to 12, Redis up to 7.2's value types) from a stream, one pass, without
 * buffering more than one value: auxiliary fields, databases, and for every key its type, expiry, the
 * serialized value (for a {@code RESTORE} payload, when asked) and its logical content (into a
 * {@link ValueSink}). Checks the file's CRC-64 at the end.
 *
 * <p>Format reference: Redis {@code rdb.h}/{@code rdb.c}, {@code listpack.c}, {@code ziplist.c},
 * {@code intset.c}, {@code t_stream.c}.
 */
public final class RdbParser {
    public static final int TYPE_STRING = 0;
    public static final int TYPE_LIST = 1;
    public static final int TYPE_SET = 2;
    public static final int TYPE_ZSET = 3;
    public static final int TYPE_HASH = 4;
    public static final int TYPE_ZSET_2 = 5;
    public static final int TYPE_MODULE_PRE_GA = 6;
    public static final int TYPE_MODULE_2 = 7;
    public static final int TYPE_HASH_ZIPMAP = 9;
    public static final int TYPE_LIST_ZIPLIST = 10;
    public static final int TYPE_SET_INTSET = 11;
    public static final int TYPE_ZSET_ZIPLIST = 12;
    public static final int TYPE_HASH_ZIPLIST = 13;
    public static final int TYPE_LIST_QUICKLIST = 14;
    public static final int TYPE_STREAM_LISTPACKS = 15;
    public static final int TYPE_HASH_LISTPACK = 16;
    public static final int TYPE_ZSET_LISTPACK = 17;
    public static final int TYPE_LIST_QUICKLIST_2 = 18;
    public static final int TYPE_STREAM_LISTPACKS_2 = 19;
    public static final int TYPE_SET_LISTPACK = 20;
    public static final int TYPE_STREAM_LISTPACKS_3 = 21;

    static final int OP_SLOT_INFO = 244;
    static final int OP_FUNCTION2 = 245;
    static final int OP_FUNCTION_PRE_GA = 246;
    static final int OP_MODULE_AUX = 247;
    static final int OP_IDLE = 248;
    static final int OP_FREQ = 249;
    static final int OP_AUX = 250;
    static final int OP_RESIZEDB = 251;
    static final int OP_EXPIRETIME_MS = 252;
    static final int OP_EXPIRETIME = 253;
    static final int OP_SELECTDB = 254;
    static final int OP_EOF = 255;

    /** The newest RDB version this reader knows. */
    public static final int MAX_VERSION = 12;

    /** What the parser reports while it reads. */
    public interface Visitor {
        default void aux(String key, String value) {
        }

        default void selectDb(int db) {
        }

        /**
         * Where the logical content of the next key goes ({@link ValueSink#NONE} to ignore it).
         *
         * @param kind the logical type of the key's value
         */
        default ValueSink sinkFor(int db, byte[] key, KeyDigest.Kind kind) {
            return ValueSink.NONE;
        }

        /**
         * One key, after its value was read.
         *
         * @param expireAtMs absolute expiry in Unix milliseconds, or -1
         * @param payloadBody type byte and serialized value (a DUMP payload without version and CRC), or null when not captured
         */
        void key(int db, byte[] key, int type, long expireAtMs, byte[] payloadBody);

        default void function(byte[] code) {
        }
    }

    /**
     * @param version       RDB version from the header
     * @param bytes         bytes read, the 8-byte checksum included
     * @param checksumValid false when the file's checksum is zero (checksums disabled) and so was not checked
     */
    public record Result(int version, long bytes, boolean checksumValid) {
    }

    private final RdbInput in;
    private final boolean capture;
    private int version;

    /**
     * @param in      the stream, positioned at the "REDIS" magic; read exactly up to the end of the file
     * @param capture whether to capture each value's serialized bytes for RESTORE
     */
    public RdbParser(InputStream in, boolean capture) {
        this.in = new RdbInput(in);
        this.capture = capture;
    }

    /** Bytes read so far. */
    public long position() {
        return in.position();
    }

    /**
     * Reads the whole file.
     *
     * @throws RdbFormatException when the data is not a valid RDB file of a supported version
     */
    public Result parse(Visitor v) throws IOException {
        byte[] magic = in.bytes(9);
        String head = new String(magic, StandardCharsets.US_ASCII);
        if (!head.startsWith("REDIS")) {
            throw new RdbFormatException("the stream does not start with an RDB header (REDISnnnn): " + printable(magic));
        }
        try {
            version = Integer.parseInt(head.substring(5));
        } catch (NumberFormatException e) {
            throw new RdbFormatException("the RDB header has no version number: " + printable(magic));
        }
        if (version < 1 || version > MAX_VERSION) {
            throw new RdbFormatException("RDB version " + version + " is not supported (this reader knows versions 1 to " + MAX_VERSION + ")");
        }
        int db = 0;
        long expireAt = -1;
        while (true) {
            int op = in.u8();
            switch (op) {
                case OP_EOF -> {
                    long computed = in.crc();
                    if (version < 5) {
                        return new Result(version, in.position(), false);
                    }
                    long stored = in.u64le();
                    if (stored == 0) {
                        return new Result(version, in.position(), false);
                    }
                    if (stored != computed) {
                        throw new RdbFormatException("the RDB checksum does not match: stored " + Long.toHexString(stored) + ", computed "
                                + Long.toHexString(computed) + " (the snapshot is damaged)");
                    }
                    return new Result(version, in.position(), true);
                }
                case OP_SELECTDB -> {
                    db = (int) length();
                    v.selectDb(db);
                }
                case OP_RESIZEDB -> {
                    length();
                    length();
                }
                case OP_AUX -> v.aux(utf8(string()), utf8(string()));
                case OP_EXPIRETIME_MS -> expireAt = in.u64le();
                case OP_EXPIRETIME -> expireAt = in.u32le() * 1000L;
                case OP_IDLE -> length();
                case OP_FREQ -> in.u8();
                case OP_SLOT_INFO -> {
                    length();
                    length();
                    length();
                }
                case OP_FUNCTION2 -> v.function(string());
                case OP_FUNCTION_PRE_GA -> throw new RdbFormatException("the RDB holds functions in the format of a Redis 7.0 release "
                        + "candidate; save it with a released Redis 7.0 or later");
                case OP_MODULE_AUX -> throw new RdbFormatException("the RDB holds auxiliary data of a Redis module (module id "
                        + Long.toHexString(length()) + "), which backupkit cannot read");
                default -> {
                    byte[] key = string();
                    ValueSink sink = v.sinkFor(db, key, kindOf(op));
                    if (capture) {
                        in.startCapture(op);
                    }
                    value(op, sink);
                    v.key(db, key, op, expireAt, capture ? in.endCapture() : null);
                    expireAt = -1;
                }
            }
        }
    }

    /** The logical type of an RDB value type. */
    public static KeyDigest.Kind kindOf(int type) {
        return switch (type) {
            case TYPE_STRING -> KeyDigest.Kind.string;
            case TYPE_LIST, TYPE_LIST_ZIPLIST, TYPE_LIST_QUICKLIST, TYPE_LIST_QUICKLIST_2 -> KeyDigest.Kind.list;
            case TYPE_SET, TYPE_SET_INTSET, TYPE_SET_LISTPACK -> KeyDigest.Kind.set;
            case TYPE_ZSET, TYPE_ZSET_2, TYPE_ZSET_ZIPLIST, TYPE_ZSET_LISTPACK -> KeyDigest.Kind.zset;
            case TYPE_HASH, TYPE_HASH_ZIPMAP, TYPE_HASH_ZIPLIST, TYPE_HASH_LISTPACK -> KeyDigest.Kind.hash;
            case TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3 -> KeyDigest.Kind.stream;
            case TYPE_MODULE_2 -> KeyDigest.Kind.module;
            default -> throw new RdbFormatException("unknown RDB value type " + type + unknownTypeHint(type));
        };
    }

    private static String unknownTypeHint(int type) {
        return type >= 22 && type <= 25 ? " (hashes with field expiry, Redis 7.4 or later: not supported yet)" : "";
    }

    private void value(int type, ValueSink sink) throws IOException {
        switch (type) {
            case TYPE_STRING -> sink.string(string());
            case TYPE_LIST -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    sink.listElement(string());
                }
            }
            case TYPE_SET -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    sink.setMember(string());
                }
            }
            case TYPE_ZSET -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    byte[] m = string();
                    sink.zsetMember(m, oldDouble());
                }
            }
            case TYPE_ZSET_2 -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    byte[] m = string();
                    sink.zsetMember(m, Double.longBitsToDouble(in.u64le()));
                }
            }
            case TYPE_HASH -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    sink.hashField(string(), string());
                }
            }
            case TYPE_MODULE_2 -> module();
            case TYPE_HASH_ZIPMAP -> Encodings.zipmap(string(), sink);
            case TYPE_LIST_ZIPLIST -> Encodings.ziplist(string()).forEach(sink::listElement);
            case TYPE_SET_INTSET -> Encodings.intset(string()).forEach(sink::setMember);
            case TYPE_ZSET_ZIPLIST -> pairs(Encodings.ziplist(string()), sink, true);
            case TYPE_HASH_ZIPLIST -> pairs(Encodings.ziplist(string()), sink, false);
            case TYPE_HASH_LISTPACK -> pairs(Encodings.listpack(string()), sink, false);
            case TYPE_ZSET_LISTPACK -> pairs(Encodings.listpack(string()), sink, true);
            case TYPE_SET_LISTPACK -> Encodings.listpack(string()).forEach(sink::setMember);
            case TYPE_LIST_QUICKLIST -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    Encodings.ziplist(string()).forEach(sink::listElement);
                }
            }
            case TYPE_LIST_QUICKLIST_2 -> {
                long n = length();
                for (long i = 0; i < n; i++) {
                    long container = length();
                    byte[] node = string();
                    if (container == 1) {
                        sink.listElement(node);
                    } else if (container == 2) {
                        Encodings.listpack(node).forEach(sink::listElement);
                    } else {
                        throw new RdbFormatException("unknown quicklist container " + container);
                    }
                }
            }
            case TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2, TYPE_STREAM_LISTPACKS_3 -> stream(type, sink);
            case TYPE_MODULE_PRE_GA -> throw new RdbFormatException("the RDB holds a value of a Redis module in the pre-4.0 format, "
                    + "which backupkit cannot read");
            default -> kindOf(type);
        }
    }

    private void pairs(List<byte[]> items, ValueSink sink, boolean zset) {
        if (items.size() % 2 != 0) {
            throw new RdbFormatException("an encoded " + (zset ? "sorted set" : "hash") + " has an odd number of elements");
        }
        for (int i = 0; i < items.size(); i += 2) {
            if (zset) {
                sink.zsetMember(items.get(i), parseDouble(items.get(i + 1)));
            } else {
                sink.hashField(items.get(i), items.get(i + 1));
            }
        }
    }

    private void module() throws IOException {
        length(); // module id
        while (true) {
            long opcode = length();
            switch ((int) opcode) {
                case 0 -> {
                    return;
                }
                case 1, 2 -> length();
                case 3 -> in.skip(4);
                case 4 -> in.skip(8);
                case 5 -> string();
                default -> throw new RdbFormatException("unknown module value opcode " + opcode);
            }
        }
    }

    private void stream(int type, ValueSink sink) throws IOException {
        long nodes = length();
        for (long i = 0; i < nodes; i++) {
            byte[] master = string();
            if (master.length != 16) {
                throw new RdbFormatException("a stream node key has " + master.length + " bytes, expected 16");
            }
            long baseMs = be64(master, 0);
            long baseSeq = be64(master, 8);
            List<byte[]> lp = Encodings.listpack(string());
            streamNode(lp, baseMs, baseSeq, sink);
        }
        long length = length();
        long lastMs = length();
        long lastSeq = length();
        if (type >= TYPE_STREAM_LISTPACKS_2) {
            length(); // first id
            length();
            length(); // max deleted entry id
            length();
            length(); // entries added
        }
        sink.streamMeta(length, lastMs, lastSeq);
        long groups = length();
        for (long g = 0; g < groups; g++) {
            byte[] name = string();
            long gMs = length();
            long gSeq = length();
            if (type >= TYPE_STREAM_LISTPACKS_2) {
                length(); // entries read
            }
            sink.streamGroup(name, gMs, gSeq);
            long pel = length();
            for (long p = 0; p < pel; p++) {
                in.skip(16 + 8); // entry id, delivery time
                length(); // delivery count
            }
            long consumers = length();
            for (long c = 0; c < consumers; c++) {
                string(); // name
                in.skip(8); // seen time
                if (type >= TYPE_STREAM_LISTPACKS_3) {
                    in.skip(8); // active time
                }
                long cpel = length();
                in.skip(cpel * 16);
            }
        }
    }

    /** Decodes one stream listpack node: the master entry, then entries relative to the node's id. */
    private static void streamNode(List<byte[]> lp, long baseMs, long baseSeq, ValueSink sink) {
        int i = 0;
        long count = num(lp.get(i++));
        long deleted = num(lp.get(i++));
        int masterFields = (int) num(lp.get(i++));
        byte[][] master = new byte[masterFields][];
        for (int f = 0; f < masterFields; f++) {
            master[f] = lp.get(i++);
        }
        i++; // the master entry's terminating 0
        long total = count + deleted;
        for (long e = 0; e < total; e++) {
            int flags = (int) num(lp.get(i++));
            long ms = baseMs + num(lp.get(i++));
            long seq = baseSeq + num(lp.get(i++));
            byte[][] fv;
            if ((flags & 2) != 0) { // same fields as the master entry
                fv = new byte[masterFields * 2][];
                for (int f = 0; f < masterFields; f++) {
                    fv[2 * f] = master[f];
                    fv[2 * f + 1] = lp.get(i++);
                }
            } else {
                int n = (int) num(lp.get(i++));
                fv = new byte[n * 2][];
                for (int f = 0; f < 2 * n; f++) {
                    fv[f] = lp.get(i++);
                }
            }
            i++; // lp-count
            if ((flags & 1) == 0) {
                sink.streamEntry(ms, seq, fv);
            }
        }
    }

    private static long num(byte[] b) {
        try {
            return Long.parseLong(new String(b, StandardCharsets.US_ASCII));
        } catch (NumberFormatException e) {
            throw new RdbFormatException("a stream listpack holds '" + printable(b) + "' where a number belongs");
        }
    }

    private static long be64(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    private double oldDouble() throws IOException {
        int len = in.u8();
        return switch (len) {
            case 253 -> Double.NaN;
            case 254 -> Double.POSITIVE_INFINITY;
            case 255 -> Double.NEGATIVE_INFINITY;
            default -> parseDouble(in.bytes(len));
        };
    }

    static double parseDouble(byte[] b) {
        String s = new String(b, StandardCharsets.US_ASCII);
        switch (s) {
            case "inf", "+inf" -> {
                return Double.POSITIVE_INFINITY;
            }
            case "-inf" -> {
                return Double.NEGATIVE_INFINITY;
            }
            default -> {
                try {
                    return Double.parseDouble(s);
                } catch (NumberFormatException e) {
                    throw new RdbFormatException("'" + printable(b) + "' is not a sorted-set score");
                }
            }
        }
    }

    /** A length: 6, 14, 32 or 64 bits. */
    private long length() throws IOException {
        int b = in.u8();
        return switch (b >> 6) {
            case 0 -> b & 0x3f;
            case 1 -> ((b & 0x3f) << 8) | in.u8();
            case 2 -> {
                if (b == 0x80) {
                    byte[] x = in.bytes(4);
                    yield ((x[0] & 0xffL) << 24) | ((x[1] & 0xff) << 16) | ((x[2] & 0xff) << 8) | (x[3] & 0xff);
                } else if (b == 0x81) {
                    yield be64(in.bytes(8), 0);
                }
                throw new RdbFormatException("invalid length encoding 0x" + Integer.toHexString(b) + " at byte " + (in.position() - 1));
            }
            default -> throw new RdbFormatException("a string encoding 0x" + Integer.toHexString(b) + " where a length belongs at byte "
                    + (in.position() - 1));
        };
    }

    /** A string: raw, an encoded integer, or LZF-compressed. */
    private byte[] string() throws IOException {
        int b = in.u8();
        if ((b >> 6) != 3) {
            long len = switch (b >> 6) {
                case 0 -> b & 0x3f;
                case 1 -> ((b & 0x3f) << 8) | in.u8();
                default -> {
                    if (b == 0x80) {
                        yield in.u32beAsLong();
                    } else if (b == 0x81) {
                        yield be64(in.bytes(8), 0);
                    }
                    throw new RdbFormatException("invalid string length encoding 0x" + Integer.toHexString(b));
                }
            };
            if (len > Integer.MAX_VALUE - 16) {
                throw new RdbFormatException("a string of " + len + " bytes is longer than this reader can hold");
            }
            return in.bytes((int) len);
        }
        return switch (b & 0x3f) {
            case 0 -> ascii((byte) in.u8());
            case 1 -> {
                byte[] x = in.bytes(2);
                yield ascii((short) ((x[0] & 0xff) | (x[1] << 8)));
            }
            case 2 -> ascii((int) in.u32le());
            case 3 -> {
                long clen = length();
                long len = length();
                if (clen > Integer.MAX_VALUE - 16 || len > Integer.MAX_VALUE - 16) {
                    throw new RdbFormatException("a compressed string of " + len + " bytes is longer than this reader can hold");
                }
                try {
                    yield Lzf.decompress(in.bytes((int) clen), (int) len);
                } catch (IllegalArgumentException e) {
                    throw new RdbFormatException("a compressed string is damaged: " + e.getMessage());
                }
            }
            default -> throw new RdbFormatException("unknown string encoding 0x" + Integer.toHexString(b));
        };
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static String printable(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : Arrays.copyOf(b, Math.min(b.length, 32))) {
            s.append(x >= 32 && x < 127 ? Character.toString(x) : String.format("\\x%02x", x & 0xff));
        }
        return s.toString();
    }
}
