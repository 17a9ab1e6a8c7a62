package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Sealer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Index object: sealed {@code "BKI1", packCount, then per pack: name length, name, size, blobCount,
 * blob entries}. Named by the SHA-256 of the stored bytes.
 */
public final class IndexFile {
    private IndexFile() {
    }

    public static byte[] encode(List<PackEntry> packs, Sealer sealer) {
        int size = 8;
        List<byte[]> names = new ArrayList<>();
        for (PackEntry p : packs) {
            byte[] n = p.pack().getBytes(StandardCharsets.US_ASCII);
            names.add(n);
            size += 2 + n.length + 8 + 4 + p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        byte[] out = new byte[size];
        System.arraycopy(Formats.INDEX_MAGIC, 0, out, 0, 4);
        Formats.putInt(out, 4, packs.size());
        int off = 8;
        for (int i = 0; i < packs.size(); i++) {
            PackEntry p = packs.get(i);
            byte[] n = names.get(i);
            out[off] = (byte) (n.length >>> 8);
            out[off + 1] = (byte) n.length;
            System.arraycopy(n, 0, out, off + 2, n.length);
            off += 2 + n.length;
            Formats.putLong(out, off, p.size());
            Formats.putInt(out, off + 8, p.blobs().size());
            off += 12;
            PackEntry.writeEntries(p.blobs(), out, off);
            off += p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        return sealer.seal(out, Formats.AD_INDEX);
    }

    /** Bytes of one pack record before its entries: name length (2), shortest name, size (8), count (4). */
    private static final int MIN_PACK_RECORD = 2 + 1 + 8 + 4;
    private static final java.util.regex.Pattern PACK_NAME = java.util.regex.Pattern.compile("data/([0-9a-f]{2})/\\1[0-9a-f]{62}");

    /**
     * Reads a stored index: content hash against the name, seal, magic, then every count and length
     * checked against the bytes that are actually there before anything is allocated.
     */
    public static List<PackEntry> decode(String name, byte[] stored, Sealer sealer) {
        Formats.checkContentHash(name, stored);
        byte[] in = sealer.open(stored, Formats.AD_INDEX)
                .orElseThrow(() -> new IntegrityException(name, "index fails authentication"));
        Formats.checkMagic(name, "index", in, 0, Formats.INDEX_MAGIC);
        if (in.length < 8) {
            throw new IntegrityException(name, "index is truncated after its magic");
        }
        int packs = Formats.getInt(in, 4);
        if (packs < 0 || packs > (in.length - 8) / MIN_PACK_RECORD) {
            throw new IntegrityException(name, "index lists " + packs + " packs in " + in.length + " bytes");
        }
        List<PackEntry> out = new ArrayList<>(packs);
        int off = 8;
        for (int i = 0; i < packs; i++) {
            if (in.length - off < MIN_PACK_RECORD) {
                throw new IntegrityException(name, "index is truncated in pack " + i);
            }
            int nlen = ((in[off] & 0xff) << 8) | (in[off + 1] & 0xff);
            if (in.length - off - 2 - 12 < nlen) {
                throw new IntegrityException(name, "index is truncated in the name of pack " + i);
            }
            String pack = new String(in, off + 2, nlen, StandardCharsets.US_ASCII);
            if (!PACK_NAME.matcher(pack).matches()) {
                throw new IntegrityException(name, "index names an invalid pack \"" + Formats.printable(in, off + 2, Math.min(nlen, 80)) + "\"");
            }
            off += 2 + nlen;
            long size = Formats.getLong(in, off);
            int count = Formats.getInt(in, off + 8);
            off += 12;
            if (size < 4L + sealer.overhead() || size > Integer.MAX_VALUE) {
                throw new IntegrityException(name, "index records " + size + " bytes for " + pack);
            }
            if (count < 0 || count > (in.length - off) / PackEntry.ENTRY_BYTES) {
                throw new IntegrityException(name, "index lists " + count + " blobs for " + pack + " with " + (in.length - off) + " bytes left");
            }
            List<PackEntry.Blob> blobs = new ArrayList<>(count);
            for (int j = 0; j < count; j++) {
                PackEntry.Blob b = PackEntry.readEntry(in, off);
                // the trailer (at least its seal and length) follows the blobs
                PackEntry.checkEntry(name, b, size - 4 - sealer.overhead(), sealer.overhead());
                blobs.add(b);
                off += PackEntry.ENTRY_BYTES;
            }
            out.add(new PackEntry(pack, size, blobs));
        }
        if (off != in.length) {
            throw new IntegrityException(name, "index has " + (in.length - off) + " bytes after its last pack");
        }
        return out;
    }
}
