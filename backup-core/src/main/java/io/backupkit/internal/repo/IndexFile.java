package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Sealer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Index objects. Two families, both sealed with {@code "backupkit v1 index"} and named by the SHA-256
 * of the stored bytes:
 *
 * <ul>
 *   <li><b>pack indexes</b> ({@code index/<hash>}): which blobs lie where in which packs. Written by
 *       backups (checkpoints while running, a last one at the end) and by prune (packs it wrote,
 *       merged indexes). Format v2: {@code "BKI2" kind(1) 0(3) commitCount(4) commits… packCount(4)
 *       packs…}, a pack being {@code nameLength(2) name size(8) blobCount(4) entries(44 bytes each)}.
 *       Format v1 ({@code "BKI1" packCount packs…}, the same pack layout without kind and commits) is
 *       still read, as a backup's index.</li>
 *   <li><b>state objects</b> ({@code index/state/<hash>}), written only by prune: which index objects
 *       are superseded (merged into others, or older state objects), which packs are obsolete (marked
 *       for deletion: no new backup may reuse their blobs) and which are deleted (tombstones). Format
 *       {@code "BKS1" 0(4) supersededCount(4) names… annotationCount(4) (type(1) nameLength(2) name)…}.</li>
 * </ul>
 *
 * <p>Names are written as {@code length(2) ASCII}. Readers walk objects with a {@link Visitor} instead of
 * building entry objects, so loading an index costs no garbage per blob.
 */
public final class IndexFile {
    /** Written by a running backup for the packs it stored so far; "uncommitted" until a backup index names it. */
    public static final int CHECKPOINT = 1;
    /** A backup's last index; its commit list names the backup's checkpoints. Also what v1 indexes are read as. */
    public static final int BACKUP = 2;
    /** Written by prune: packs it repacked into, or indexes it merged. */
    public static final int COMPACTED = 3;

    /** Annotation types of state objects. */
    public static final int OBSOLETE = 1;
    public static final int DELETED = 2;

    /** Plaintext bytes above which writers split pack indexes (keeps every sealed piece small). */
    public static final int MAX_PLAIN_BYTES = 8 * 1024 * 1024;

    static final byte[] MAGIC_V1 = Formats.INDEX_MAGIC;
    /** Bytes of one pack record before its entries: name length (2), shortest name, size (8), count (4). */
    private static final int MIN_PACK_RECORD = 2 + 1 + 8 + 4;
    private static final java.util.regex.Pattern PACK_NAME = java.util.regex.Pattern.compile("data/([0-9a-f]{2})/\\1[0-9a-f]{62}");
    static final byte[] MAGIC_V2 = {'B', 'K', 'I', '2'};
    static final byte[] STATE_MAGIC = {'B', 'K', 'S', '1'};

    private IndexFile() {
    }

    /** Receives the content of a pack index. */
    public interface Visitor {
        /** Called once, first. */
        default void header(int kind, List<String> commits) {
        }

        /** Called per pack; its {@code blobCount} entries follow as {@link #blob} calls. */
        void pack(String name, long size, int blobCount);

        /**
         * One blob entry: id at {@code buf[off, off+32)}, then offset, sealed length and plaintext length
         * (4 bytes each, big-endian). The buffer is only valid during the call.
         */
        void blob(byte[] buf, int off);
    }

    /** A pack annotation of a state object. */
    public record Annotation(int type, String pack) {
    }

    /** A state object's content. */
    public record State(List<String> superseded, List<Annotation> annotations) {
    }

    // ---- pack indexes ------------------------------------------------------------------------------

    public static byte[] encode(int kind, List<String> commits, List<PackEntry> packs, Sealer sealer) {
        int size = 12 + 4;
        List<byte[]> commitNames = new ArrayList<>();
        for (String c : commits) {
            byte[] n = c.getBytes(StandardCharsets.US_ASCII);
            commitNames.add(n);
            size += 2 + n.length;
        }
        List<byte[]> names = new ArrayList<>();
        for (PackEntry p : packs) {
            byte[] n = p.pack().getBytes(StandardCharsets.US_ASCII);
            names.add(n);
            size += 2 + n.length + 8 + 4 + p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        byte[] out = new byte[size];
        System.arraycopy(MAGIC_V2, 0, out, 0, 4);
        out[4] = (byte) kind;
        int off = 8;
        Formats.putInt(out, off, commitNames.size());
        off += 4;
        for (byte[] n : commitNames) {
            off = putName(out, off, n);
        }
        Formats.putInt(out, off, packs.size());
        off += 4;
        for (int i = 0; i < packs.size(); i++) {
            PackEntry p = packs.get(i);
            off = putName(out, off, names.get(i));
            Formats.putLong(out, off, p.size());
            Formats.putInt(out, off + 8, p.blobs().size());
            off += 12;
            PackEntry.writeEntries(p.blobs(), out, off);
            off += p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        return sealer.seal(out, Formats.AD_INDEX);
    }

    /** Plaintext size of a pack index holding {@code blobs} blobs in {@code packs} packs (for splitting). */
    public static long plainSize(int packs, long blobs) {
        return 16 + packs * (2L + 80 + 12) + blobs * PackEntry.ENTRY_BYTES;
    }

    private static int putName(byte[] out, int off, byte[] n) {
        out[off] = (byte) (n.length >>> 8);
        out[off + 1] = (byte) n.length;
        System.arraycopy(n, 0, out, off + 2, n.length);
        return off + 2 + n.length;
    }

    /** Checks name and seal, then walks the pack index; {@link IntegrityException} for anything malformed. */
    public static void read(String name, byte[] stored, Sealer sealer, Visitor visitor) {
        Formats.checkContentHash(name, stored);
        byte[] in = sealer.open(stored, Formats.AD_INDEX)
                .orElseThrow(() -> new IntegrityException(name, "index fails authentication"));
        Reader r = new Reader(name, in);
        byte[] magic = r.bytes(4);
        int kind;
        List<String> commits = List.of();
        if (Arrays.equals(magic, MAGIC_V1)) {
            kind = BACKUP;
        } else if (Arrays.equals(magic, MAGIC_V2)) {
            kind = r.u8();
            r.bytes(3);
            if (kind < CHECKPOINT || kind > COMPACTED) {
                throw new IntegrityException(name, "index kind " + kind + " is unknown (this backupkit reads 1-3)");
            }
            int n = r.count(2);
            List<String> c = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                c.add(r.name());
            }
            commits = c;
        } else if (Arrays.equals(magic, STATE_MAGIC)) {
            throw new IntegrityException(name, "is a prune state object, not a pack index");
        } else {
            throw new IntegrityException(name, "index magic is \"" + Formats.printable(magic, 0, 4) + "\", this backupkit reads \"BKI1\" and "
                    + "\"BKI2\" (index formats 1 and 2); the object is damaged or from another program");
        }
        visitor.header(kind, commits);
        int packs = r.count(MIN_PACK_RECORD);
        for (int i = 0; i < packs; i++) {
            String pack = r.name();
            if (!PACK_NAME.matcher(pack).matches()) {
                throw new IntegrityException(name, "index names an invalid pack \"" + Formats.printable(pack.getBytes(StandardCharsets.ISO_8859_1), 0,
                        Math.min(pack.length(), 80)) + "\"");
            }
            long size = r.i64();
            if (size < 4L + sealer.overhead() || size > Integer.MAX_VALUE) {
                throw new IntegrityException(name, "index records " + size + " bytes for " + pack);
            }
            int count = r.count(PackEntry.ENTRY_BYTES);
            visitor.pack(pack, size, count);
            for (int j = 0; j < count; j++) {
                int at = r.skip(PackEntry.ENTRY_BYTES);
                // the trailer (at least its seal and length) follows the blobs
                PackEntry.checkEntry(name, PackEntry.readEntry(in, at), size - 4 - sealer.overhead(), sealer.overhead());
                visitor.blob(in, at);
            }
        }
        if (r.off != in.length) {
            throw new IntegrityException(name, "index has " + (in.length - r.off) + " unexpected trailing bytes");
        }
    }

    /** Decodes a whole pack index into entries (for tests and small indexes). */
    public static List<PackEntry> decode(String name, byte[] stored, Sealer sealer) {
        List<PackEntry> out = new ArrayList<>();
        read(name, stored, sealer, new Visitor() {
            String pack;
            long size;
            List<PackEntry.Blob> blobs;
            int left;

            @Override
            public void pack(String n, long s, int blobCount) {
                pack = n;
                size = s;
                blobs = new ArrayList<>(blobCount);
                left = blobCount;
                if (left == 0) {
                    out.add(new PackEntry(pack, size, List.of()));
                }
            }

            @Override
            public void blob(byte[] buf, int off) {
                blobs.add(PackEntry.readEntry(buf, off));
                if (--left == 0) {
                    out.add(new PackEntry(pack, size, List.copyOf(blobs)));
                }
            }
        });
        return out;
    }

    // ---- state objects -----------------------------------------------------------------------------

    public static byte[] encodeState(State state, Sealer sealer) {
        int size = 16;
        for (String s : state.superseded()) {
            size += 2 + s.length();
        }
        for (Annotation a : state.annotations()) {
            size += 3 + a.pack().length();
        }
        byte[] out = new byte[size];
        System.arraycopy(STATE_MAGIC, 0, out, 0, 4);
        int off = 8;
        Formats.putInt(out, off, state.superseded().size());
        off += 4;
        for (String s : state.superseded()) {
            off = putName(out, off, s.getBytes(StandardCharsets.US_ASCII));
        }
        Formats.putInt(out, off, state.annotations().size());
        off += 4;
        for (Annotation a : state.annotations()) {
            out[off++] = (byte) a.type();
            off = putName(out, off, a.pack().getBytes(StandardCharsets.US_ASCII));
        }
        return sealer.seal(out, Formats.AD_INDEX);
    }

    public static State readState(String name, byte[] stored, Sealer sealer) {
        Formats.checkContentHash(name, stored);
        byte[] in = sealer.open(stored, Formats.AD_INDEX)
                .orElseThrow(() -> new IntegrityException(name, "index state fails authentication"));
        Reader r = new Reader(name, in);
        byte[] magic = r.bytes(4);
        if (!Arrays.equals(magic, STATE_MAGIC)) {
            throw new IntegrityException(name, "not a prune state object (magic " + printable(magic) + "; this backupkit reads BKS1)");
        }
        r.bytes(4);
        int n = r.count(2);
        List<String> superseded = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            superseded.add(r.name());
        }
        int a = r.count(3);
        List<Annotation> annotations = new ArrayList<>(a);
        for (int i = 0; i < a; i++) {
            int type = r.u8();
            if (type != OBSOLETE && type != DELETED) {
                throw new IntegrityException(name, "annotation type " + type + " is unknown");
            }
            annotations.add(new Annotation(type, r.name()));
        }
        if (r.off != in.length) {
            throw new IntegrityException(name, "index state has " + (in.length - r.off) + " unexpected trailing bytes");
        }
        return new State(List.copyOf(superseded), List.copyOf(annotations));
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(x >= 32 && x < 127 ? (char) x : '?');
        }
        return sb.toString();
    }

    /** Bounds-checked reading of a decoded index: malformed input is an IntegrityException, never an exception of the JDK. */
    private static final class Reader {
        private final String name;
        private final byte[] in;
        int off;

        Reader(String name, byte[] in) {
            this.name = name;
            this.in = in;
        }

        private void need(long n) {
            if (n < 0 || off + n > in.length) {
                throw new IntegrityException(name, "index structure is invalid (truncated at byte " + off + ")");
            }
        }

        byte[] bytes(int n) {
            need(n);
            byte[] b = Arrays.copyOfRange(in, off, off + n);
            off += n;
            return b;
        }

        int skip(int n) {
            need(n);
            int at = off;
            off += n;
            return at;
        }

        int u8() {
            need(1);
            return in[off++] & 0xff;
        }

        long i64() {
            need(8);
            long v = Formats.getLong(in, off);
            off += 8;
            return v;
        }

        /** A count of items that take at least {@code minBytes} each: bounded by what is left. */
        int count(int minBytes) {
            need(4);
            int n = Formats.getInt(in, off);
            off += 4;
            if (n < 0 || (long) n * minBytes > in.length - off) {
                throw new IntegrityException(name, "index structure is invalid (count " + n + " at byte " + (off - 4) + ")");
            }
            return n;
        }

        String name() {
            need(2);
            int len = ((in[off] & 0xff) << 8) | (in[off + 1] & 0xff);
            off += 2;
            need(len);
            String s = new String(in, off, len, StandardCharsets.US_ASCII);
            off += len;
            return s;
        }
    }
}
