package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds one pack in memory: sealed blobs back to back, then a sealed trailer listing them, then the
 * trailer's length (4 bytes, big endian). The pack's name is the SHA-256 of all its bytes. Not
 * thread-safe: callers serialize access.
 */
public final class PackWriter {
    private byte[] buf;
    private int size;
    private final List<PackEntry.Blob> blobs = new ArrayList<>();

    public PackWriter(int initialCapacity) {
        this.buf = new byte[initialCapacity];
    }

    public int size() {
        return size;
    }

    public int blobCount() {
        return blobs.size();
    }

    public void add(BlobId id, byte[] sealed, int rawLength) {
        ensure(sealed.length);
        System.arraycopy(sealed, 0, buf, size, sealed.length);
        blobs.add(new PackEntry.Blob(id, size, sealed.length, rawLength));
        size += sealed.length;
    }

    private void ensure(int extra) {
        if (size + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length + buf.length / 2, size + extra));
        }
    }

    /** A finished pack: its bytes ({@code bytes[0, length)}) and its index entry. */
    public record Finished(byte[] bytes, int length, PackEntry entry) {
    }

    public Finished finish(Sealer sealer) {
        byte[] trailer = new byte[8 + blobs.size() * PackEntry.ENTRY_BYTES];
        System.arraycopy(Formats.PACK_MAGIC, 0, trailer, 0, 4);
        Formats.putInt(trailer, 4, blobs.size());
        PackEntry.writeEntries(blobs, trailer, 8);
        byte[] sealedTrailer = sealer.seal(trailer, Formats.AD_PACK_TRAILER);
        ensure(sealedTrailer.length + 4);
        System.arraycopy(sealedTrailer, 0, buf, size, sealedTrailer.length);
        size += sealedTrailer.length;
        Formats.putInt(buf, size, sealedTrailer.length);
        size += 4;
        String name = Formats.packName(Hashes.hex(Hashes.sha256(buf, 0, size)));
        return new Finished(buf, size, new PackEntry(name, size, List.copyOf(blobs)));
    }

    /** Reads a pack's trailer (for check and repair); throws IntegrityException when damaged. */
    public static List<PackEntry.Blob> readTrailer(String name, byte[] pack, Sealer sealer) {
        if (pack.length < 4) {
            throw new io.backupkit.IntegrityException(name, "pack is truncated");
        }
        int tlen = Formats.getInt(pack, pack.length - 4);
        if (tlen < sealer.overhead() || tlen > pack.length - 4) {
            throw new io.backupkit.IntegrityException(name, "pack trailer length " + tlen + " is invalid");
        }
        byte[] t = sealer.open(pack, pack.length - 4 - tlen, tlen, Formats.AD_PACK_TRAILER)
                .orElseThrow(() -> new io.backupkit.IntegrityException(name, "pack trailer fails authentication"));
        int count = Formats.getInt(t, 4);
        List<PackEntry.Blob> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(PackEntry.readEntry(t, 8 + i * PackEntry.ENTRY_BYTES));
        }
        return out;
    }
}
