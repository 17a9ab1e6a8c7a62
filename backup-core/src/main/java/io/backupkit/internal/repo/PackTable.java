package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Hashes;

import java.util.Arrays;

/**
 * Pack names ↔ small ints, with each pack's size and whether it is obsolete. A pack name is
 * {@code data/<2 hex>/<64 hex>}, so a pack is kept as its 32-byte digest (about 50 bytes per pack in
 * all) rather than as a String. Thread-safe.
 */
final class PackTable {
    private byte[] digests = new byte[32 * 64];
    private long[] sizes = new long[64];
    private boolean[] obsolete = new boolean[64];
    private int n;
    private int[] slots = newSlots(128);

    private static int[] newSlots(int capacity) {
        int[] s = new int[capacity];
        Arrays.fill(s, -1);
        return s;
    }

    /** The digest of a pack name; {@link IntegrityException} for anything that is not a pack name. */
    static byte[] digestOf(String indexName, String pack) {
        if (pack.length() != 5 + 2 + 1 + 64 || !pack.startsWith(Formats.DATA) || pack.charAt(7) != '/'
                || !pack.regionMatches(5, pack, 8, 2)) {
            throw new IntegrityException(indexName, "lists '" + pack + "', which is not a pack name");
        }
        try {
            String hex = pack.substring(8);
            if (!hex.equals(hex.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("upper case");
            }
            return Hashes.unhex(hex);
        } catch (IllegalArgumentException e) {
            throw new IntegrityException(indexName, "lists '" + pack + "', which is not a pack name");
        }
    }

    private static int hash(byte[] d, int off) {
        return (d[off] & 0xff) | (d[off + 1] & 0xff) << 8 | (d[off + 2] & 0xff) << 16 | (d[off + 3] & 0x7f) << 24;
    }

    private int find(byte[] d) {
        int mask = slots.length - 1;
        for (int i = hash(d, 0) & mask; ; i = (i + 1) & mask) {
            int idx = slots[i];
            if (idx < 0) {
                return -(i + 1);
            }
            if (Arrays.equals(digests, idx * 32, idx * 32 + 32, d, 0, 32)) {
                return idx;
            }
        }
    }

    /** The pack's number, adding it when new. */
    synchronized int add(String indexName, String pack, long size) {
        byte[] d = digestOf(indexName, pack);
        int found = find(d);
        if (found >= 0) {
            if (sizes[found] == 0) {
                sizes[found] = size;
            }
            return found;
        }
        if (n == sizes.length) {
            int cap = n * 2;
            digests = Arrays.copyOf(digests, cap * 32);
            sizes = Arrays.copyOf(sizes, cap);
            obsolete = Arrays.copyOf(obsolete, cap);
        }
        System.arraycopy(d, 0, digests, n * 32, 32);
        sizes[n] = size;
        int idx = n++;
        if (n * 2 > slots.length) {
            int[] old = slots;
            slots = newSlots(old.length * 2);
            for (int i = 0; i < idx; i++) {
                byte[] di = Arrays.copyOfRange(digests, i * 32, i * 32 + 32);
                slots[-find(di) - 1] = i;
            }
        }
        slots[-find(d) - 1] = idx;
        return idx;
    }

    /** The pack's number, or -1. */
    synchronized int indexOf(String pack) {
        byte[] d;
        try {
            d = digestOf("", pack);
        } catch (IntegrityException e) {
            return -1;
        }
        int found = find(d);
        return found >= 0 ? found : -1;
    }

    synchronized String name(int idx) {
        String hex = Hashes.hex(Arrays.copyOfRange(digests, idx * 32, idx * 32 + 32));
        return Formats.packName(hex);
    }

    synchronized long size(int idx) {
        return sizes[idx];
    }

    synchronized boolean obsolete(int idx) {
        return obsolete[idx];
    }

    synchronized void markObsolete(int idx) {
        obsolete[idx] = true;
    }

    synchronized int count() {
        return n;
    }
}
