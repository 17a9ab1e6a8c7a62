package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;

import java.util.Arrays;

/**
 * A stream's blob ids are stored as <em>list blobs</em>: ordinary blobs (compressed, sealed, packed,
 * deduplicated) whose plaintext is {@code "BKT1" || count (4) || count × 32-byte id}. A manifest names a
 * stream's list blobs, so it stays small whatever the stream's size, and snapshots that share a run of
 * unchanged blobs share its list blob. Lists are cut where an id's last 12 bits are zero (ids are keyed
 * hashes, so this is content-defined: a changed blob changes only the list holding it), after at least
 * {@link #MIN_IDS} and at most {@link #MAX_IDS} ids: about 4,000 ids, 128 KiB, per list.
 */
public final class BlobLists {
    public static final int MIN_IDS = 64;
    public static final int MAX_IDS = 16384;
    static final byte[] MAGIC = {'B', 'K', 'T', '1'};

    private BlobLists() {
    }

    /** Whether a list ends after {@code id}, the {@code count}-th id of the list. */
    public static boolean endsAfter(BlobId id, int count) {
        if (count >= MAX_IDS) {
            return true;
        }
        byte[] b = id.raw();
        return count >= MIN_IDS && b[31] == 0 && (b[30] & 0x0f) == 0;
    }

    /** Collects ids of one list. Not thread-safe. */
    public static final class Builder {
        private byte[] buf = new byte[8 + 256 * BlobId.BYTES];
        private int count;

        public void add(BlobId id) {
            int need = 8 + (count + 1) * BlobId.BYTES;
            if (need > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(need, buf.length * 2));
            }
            id.writeTo(buf, 8 + count * BlobId.BYTES);
            count++;
        }

        public int count() {
            return count;
        }

        /** The list's plaintext; the builder is empty afterwards. */
        public byte[] take() {
            byte[] out = Arrays.copyOf(buf, 8 + count * BlobId.BYTES);
            System.arraycopy(MAGIC, 0, out, 0, 4);
            Formats.putInt(out, 4, count);
            count = 0;
            return out;
        }
    }

    /** The number of ids in a list blob's plaintext, checked against its length; the ids follow at byte 8. */
    public static int count(byte[] plain, String context) {
        if (plain.length < 8 || !Arrays.equals(plain, 0, 4, MAGIC, 0, 4)) {
            throw new IntegrityException(context, "a blob list is not a blob list (bad header)");
        }
        int n = Formats.getInt(plain, 4);
        if (n < 0 || (long) n * BlobId.BYTES != plain.length - 8L) {
            throw new IntegrityException(context, "a blob list says " + n + " ids but holds " + (plain.length - 8) + " bytes");
        }
        return n;
    }

    /** The ids of a list blob's plaintext; {@code context} names the snapshot for errors. */
    public static BlobId[] decode(byte[] plain, String context) {
        int n = count(plain, context);
        BlobId[] ids = new BlobId[n];
        for (int i = 0; i < n; i++) {
            ids[i] = BlobId.of(plain, 8 + i * BlobId.BYTES);
        }
        return ids;
    }
}
