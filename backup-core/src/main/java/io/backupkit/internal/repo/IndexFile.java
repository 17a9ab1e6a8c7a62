package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Sealer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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

    public static List<PackEntry> decode(String name, byte[] stored, Sealer sealer) {
        Formats.checkContentHash(name, stored);
        byte[] in = sealer.open(stored, Formats.AD_INDEX)
                .orElseThrow(() -> new IntegrityException(name, "index fails authentication"));
        try {
            if (!Arrays.equals(Arrays.copyOf(in, 4), Formats.INDEX_MAGIC)) {
                throw new IntegrityException(name, "not an index object");
            }
            int packs = Formats.getInt(in, 4);
            List<PackEntry> out = new ArrayList<>(packs);
            int off = 8;
            for (int i = 0; i < packs; i++) {
                int nlen = ((in[off] & 0xff) << 8) | (in[off + 1] & 0xff);
                String pack = new String(in, off + 2, nlen, StandardCharsets.US_ASCII);
                off += 2 + nlen;
                long size = Formats.getLong(in, off);
                int count = Formats.getInt(in, off + 8);
                off += 12;
                List<PackEntry.Blob> blobs = new ArrayList<>(count);
                for (int j = 0; j < count; j++) {
                    blobs.add(PackEntry.readEntry(in, off));
                    off += PackEntry.ENTRY_BYTES;
                }
                out.add(new PackEntry(pack, size, blobs));
            }
            return out;
        } catch (ArrayIndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new IntegrityException(name, "index structure is invalid", e);
        }
    }
}
