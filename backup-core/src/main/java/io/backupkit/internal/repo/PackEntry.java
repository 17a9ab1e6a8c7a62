package io.backupkit.internal.repo;

import java.util.List;

/**
 * One pack and the blobs in it, as listed by the pack's trailer and by index files.
 *
 * @param pack  pack object name
 * @param size  pack size in bytes
 * @param blobs its blobs
 */
public record PackEntry(String pack, long size, List<Blob> blobs) {

    /** A blob inside a pack; {@code offset}/{@code length} cover the sealed bytes. */
    public record Blob(BlobId id, int offset, int length, int rawLength) {
    }

    /** Bytes per blob entry in trailers and indexes: id, offset, length, raw length. */
    static final int ENTRY_BYTES = BlobId.BYTES + 12;

    static void writeEntries(List<Blob> blobs, byte[] out, int off) {
        for (Blob b : blobs) {
            b.id().writeTo(out, off);
            Formats.putInt(out, off + 32, b.offset());
            Formats.putInt(out, off + 36, b.length());
            Formats.putInt(out, off + 40, b.rawLength());
            off += ENTRY_BYTES;
        }
    }

    static Blob readEntry(byte[] in, int off) {
        return new Blob(BlobId.of(in, off), Formats.getInt(in, off + 32), Formats.getInt(in, off + 36), Formats.getInt(in, off + 40));
    }
}
