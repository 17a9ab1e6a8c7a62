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

    /**
     * Checks an entry read from an index or trailer: non-negative, within the pack's blob area
     * ({@code [0, blobAreaEnd)}), and lengths no blob of the format exceeds, so a damaged entry can
     * neither point outside the pack nor make a reader allocate gigabytes.
     */
    static void checkEntry(String object, Blob b, long blobAreaEnd, int overhead) {
        if (b.offset() < 0 || b.length() < overhead || b.length() > Formats.MAX_SEALED_BLOB
                || b.rawLength() < 0 || b.rawLength() > Formats.MAX_CHUNK || (long) b.offset() + b.length() > blobAreaEnd) {
            throw new io.backupkit.IntegrityException(object, "blob " + b.id() + " has an invalid entry: offset " + b.offset()
                    + ", stored length " + b.length() + ", plaintext length " + b.rawLength() + " (blob area ends at " + blobAreaEnd + ")");
        }
    }

    static Blob readEntry(byte[] in, int off) {
        return new Blob(BlobId.of(in, off), Formats.getInt(in, off + 32), Formats.getInt(in, off + 36), Formats.getInt(in, off + 40));
    }
}
