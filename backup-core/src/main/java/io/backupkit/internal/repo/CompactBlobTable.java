package io.backupkit.internal.repo;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;

/**
 * Blob ids with an optional fixed-size value, stored compactly: 65,536 buckets chosen by an id's first
 * two bytes, each a sorted {@code byte[]} of records holding the other 30 id bytes and the value. A
 * record costs 30 + 4 × {@code values} bytes (46 with a location, 30 for a bare set), plus a few percent
 * of growth room; nothing per entry for the JVM (no objects, no boxing). Lookups are a binary search
 * inside one bucket.
 *
 * <p>Thread-safe: each bucket is guarded by one of 256 stripe monitors. {@link #append} (bulk loading)
 * is not, and is followed by {@link #finishBulkLoad}.
 */
public final class CompactBlobTable {
    private static final int BUCKETS = 1 << 16;
    /** Key bytes of full ids: all but the two the bucket stands for. */
    static final int FULL_KEY = BlobId.BYTES - 2;
    private static final int STRIPES = 256;

    private final int values;
    private final int key;
    private final int rec;
    private final byte[][] data = new byte[BUCKETS][];
    private final int[] sizes = new int[BUCKETS];
    private final Object[] stripes = new Object[STRIPES];
    private final AtomicLong count = new AtomicLong();

    /** @param values number of int values per id (0 for a set) */
    public CompactBlobTable(int values) {
        this.values = values;
        this.key = FULL_KEY;
        this.rec = key + 4 * values;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new Object();
        }
    }

    public long size() {
        return count.get();
    }

    /** Heap bytes held by the records, for measuring bytes per blob. */
    public long recordBytes() {
        long b = 0;
        for (byte[] d : data) {
            if (d != null) {
                b += d.length + 16;
            }
        }
        return b + (long) BUCKETS * 12;
    }

    private static int bucket(byte[] id, int off) {
        return ((id[off] & 0xff) << 8) | (id[off + 1] & 0xff);
    }

    private Object stripe(int bucket) {
        return stripes[bucket & (STRIPES - 1)];
    }

    /** Position of the id in the bucket's records, or {@code -(insertion point) - 1}. */
    private int search(byte[] b, int n, byte[] id, int off) {
        int lo = 0;
        int hi = n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int at = mid * rec;
            int c = Arrays.compareUnsigned(b, at, at + key, id, off + 2, off + 2 + key);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    public boolean contains(byte[] id, int off) {
        int bk = bucket(id, off);
        synchronized (stripe(bk)) {
            byte[] b = data[bk];
            return b != null && search(b, sizes[bk], id, off) >= 0;
        }
    }

    /** Copies the id's values into {@code out}; false when absent. */
    public boolean get(byte[] id, int off, int[] out) {
        int bk = bucket(id, off);
        synchronized (stripe(bk)) {
            byte[] b = data[bk];
            if (b == null) {
                return false;
            }
            int pos = search(b, sizes[bk], id, off);
            if (pos < 0) {
                return false;
            }
            int at = pos * rec + key;
            for (int v = 0; v < values; v++) {
                out[v] = Formats.getInt(b, at + 4 * v);
            }
            return true;
        }
    }

    /** Adds an id to a set (no values); true when it was not there yet. Atomic. */
    public boolean addIfAbsent(byte[] id, int off) {
        int bk = bucket(id, off);
        synchronized (stripe(bk)) {
            byte[] b = data[bk];
            if (b != null && search(b, sizes[bk], id, off) >= 0) {
                return false;
            }
            put(id, off, new int[values], v -> false);
            return true;
        }
    }

    /**
     * Adds an id, or replaces its values when {@code replace} says the stored first value (a pack) should
     * give way to the new one.
     */
    public void put(byte[] id, int off, int[] vals, IntPredicate replace) {
        int bk = bucket(id, off);
        synchronized (stripe(bk)) {
            byte[] b = data[bk];
            int n = sizes[bk];
            int pos = b == null ? -1 : search(b, n, id, off);
            if (pos >= 0) {
                int at = pos * rec + key;
                if (values > 0 && replace.test(Formats.getInt(b, at))) {
                    writeValues(b, at, vals);
                }
                return;
            }
            int ins = -pos - 1;
            if (b == null || (n + 1) * rec > b.length) {
                int grown = Math.max(n + 1, n + (n >> 3) + 2);
                b = b == null ? new byte[grown * rec] : Arrays.copyOf(b, grown * rec);
                data[bk] = b;
            }
            System.arraycopy(b, ins * rec, b, (ins + 1) * rec, (n - ins) * rec);
            System.arraycopy(id, off + 2, b, ins * rec, key);
            writeValues(b, ins * rec + key, vals);
            sizes[bk] = n + 1;
            count.incrementAndGet();
        }
    }

    private void writeValues(byte[] b, int at, int[] vals) {
        for (int v = 0; v < values; v++) {
            Formats.putInt(b, at + 4 * v, vals[v]);
        }
    }

    private long compactedSize;

    /**
     * During bulk loading: sorts and deduplicates now when appends have grown the table by more than
     * {@code share} since the last time, so duplicates never pile up (each compaction costs a sort of
     * every bucket; growing by a share keeps that cost proportional to what was appended).
     */
    public void compactIfGrown(double share, IntPredicate preferred) {
        if (count.get() > 1_000_000 && count.get() > compactedSize * (1 + share)) {
            finishBulkLoad(preferred);
            compactedSize = count.get();
        }
    }

    /** Appends without ordering or duplicate checks; call {@link #finishBulkLoad} before any lookup. */
    public void append(byte[] id, int off, int[] vals) {
        int bk = bucket(id, off);
        byte[] b = data[bk];
        int n = sizes[bk];
        if (b == null || (n + 1) * rec > b.length) {
            int grown = Math.max(4, n + (n >> 3) + 4);
            b = b == null ? new byte[grown * rec] : Arrays.copyOf(b, grown * rec);
            data[bk] = b;
        }
        System.arraycopy(id, off + 2, b, n * rec, key);
        writeValues(b, n * rec + key, vals);
        sizes[bk] = n + 1;
        count.incrementAndGet();
    }

    /**
     * Sorts every bucket, trims it to its exact size and drops duplicate ids, keeping for each id the
     * record whose first value (a pack) {@code preferred} accepts, if any.
     */
    public void finishBulkLoad(IntPredicate preferred) {
        long total = 0;
        for (int bk = 0; bk < BUCKETS; bk++) {
            byte[] b = data[bk];
            int n = sizes[bk];
            if (b == null) {
                continue;
            }
            // sort by the first 6 key bytes (index in the low 16 bits), then fix ties with full comparisons
            long[] keys = new long[n];
            for (int i = 0; i < n; i++) {
                long prefix = 0;
                int at = i * rec;
                for (int k = 0; k < 6; k++) {
                    prefix = (prefix << 8) | (b[at + k] & 0xff);
                }
                keys[i] = ((prefix << 16) | i) ^ Long.MIN_VALUE;
            }
            if (n > 65536) {
                throw new IllegalStateException("bucket overflow: " + n + " ids share two bytes");
            }
            Arrays.sort(keys);
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = (int) ((keys[i] ^ Long.MIN_VALUE) & 0xffff);
            }
            for (int i = 1; i < n; i++) {
                // insertion sort over equal-prefix runs (rare)
                int j = i;
                while (j > 0 && (keys[j - 1] ^ Long.MIN_VALUE) >>> 16 == (keys[j] ^ Long.MIN_VALUE) >>> 16
                        && compare(b, order[j - 1], b, order[j]) > 0) {
                    int t = order[j];
                    order[j] = order[j - 1];
                    order[j - 1] = t;
                    long tk = keys[j];
                    keys[j] = keys[j - 1];
                    keys[j - 1] = tk;
                    j--;
                }
            }
            byte[] out = new byte[n * rec];
            int m = 0;
            for (int i = 0; i < n; i++) {
                int src = order[i] * rec;
                if (m > 0 && Arrays.compareUnsigned(out, (m - 1) * rec, (m - 1) * rec + key, b, src, src + key) == 0) {
                    if (values > 0 && !preferred.test(Formats.getInt(out, (m - 1) * rec + key))
                            && preferred.test(Formats.getInt(b, src + key))) {
                        System.arraycopy(b, src, out, (m - 1) * rec, rec);
                    }
                    continue;
                }
                System.arraycopy(b, src, out, m * rec, rec);
                m++;
            }
            data[bk] = m == n ? out : Arrays.copyOf(out, m * rec);
            sizes[bk] = m;
            total += m;
        }
        count.set(total);
    }

    private int compare(byte[] a, int i, byte[] b, int j) {
        return Arrays.compareUnsigned(a, i * rec, i * rec + key, b, j * rec, j * rec + key);
    }

    /** Calls {@code consumer} with every id (32 bytes, in a reused buffer) and its first value. */
    public void forEach(IdConsumer consumer) {
        byte[] id = new byte[BlobId.BYTES];
        for (int bk = 0; bk < BUCKETS; bk++) {
            synchronized (stripe(bk)) {
                byte[] b = data[bk];
                int n = sizes[bk];
                id[0] = (byte) (bk >>> 8);
                id[1] = (byte) bk;
                for (int i = 0; i < n; i++) {
                    System.arraycopy(b, i * rec, id, 2, key);
                    consumer.accept(id, values > 0 ? Formats.getInt(b, i * rec + key) : 0);
                }
            }
        }
    }

    /** Changes the values of an id in place. */
    public interface ValuesUpdate {
        /** Gets the current values; returns true to store them back. */
        boolean update(int[] values);
    }

    /** Runs {@code f} on the id's values; false when the id is absent. */
    public boolean update(byte[] id, int off, ValuesUpdate f) {
        int bk = bucket(id, off);
        synchronized (stripe(bk)) {
            byte[] b = data[bk];
            if (b == null) {
                return false;
            }
            int pos = search(b, sizes[bk], id, off);
            if (pos < 0) {
                return false;
            }
            int at = pos * rec + key;
            int[] v = new int[values];
            for (int i = 0; i < values; i++) {
                v[i] = Formats.getInt(b, at + 4 * i);
            }
            if (f.update(v)) {
                writeValues(b, at, v);
            }
            return true;
        }
    }

    /** Receives ids and all their values. */
    public interface ValuesConsumer {
        void accept(byte[] id, int[] values);
    }

    /** Calls {@code consumer} with every id (reused buffer) and its values (reused array). */
    public void forEachValues(ValuesConsumer consumer) {
        byte[] id = new byte[BlobId.BYTES];
        int[] v = new int[values];
        for (int bk = 0; bk < BUCKETS; bk++) {
            synchronized (stripe(bk)) {
                byte[] b = data[bk];
                int n = sizes[bk];
                id[0] = (byte) (bk >>> 8);
                id[1] = (byte) bk;
                for (int i = 0; i < n; i++) {
                    System.arraycopy(b, i * rec, id, 2, key);
                    for (int j = 0; j < values; j++) {
                        v[j] = Formats.getInt(b, i * rec + key + 4 * j);
                    }
                    consumer.accept(id, v);
                }
            }
        }
    }

    /** Receives ids from {@link #forEach}. */
    public interface IdConsumer {
        void accept(byte[] id, int firstValue);
    }
}
