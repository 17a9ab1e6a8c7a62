package io.backupkit.s3.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reusable part buffers for streaming multipart uploads. The pool itself does not bound anything:
 * {@code S3Storage} takes a permit (at most {@code maxConcurrency} storage-wide) before it takes a
 * buffer and returns the permit only after the buffer is back, so at most {@code maxConcurrency}
 * buffers exist at any time. {@link #peakInUse()} lets tests check exactly that.
 */
public final class PartBuffers {
    private final ConcurrentLinkedQueue<byte[]> free = new ConcurrentLinkedQueue<>();
    private final AtomicInteger inUse = new AtomicInteger();
    private final AtomicInteger peakInUse = new AtomicInteger();
    private final AtomicInteger allocated = new AtomicInteger();

    /** A buffer of exactly {@code size} bytes (content undefined). */
    public byte[] take(int size) {
        int now = inUse.incrementAndGet();
        peakInUse.accumulateAndGet(now, Math::max);
        byte[] b = free.poll();
        while (b != null && b.length != size) {
            // part size differs (very large object): drop the old buffer, the GC takes it
            b = free.poll();
        }
        if (b == null) {
            allocated.incrementAndGet();
            b = new byte[size];
        }
        return b;
    }

    public void give(byte[] buffer) {
        inUse.decrementAndGet();
        free.offer(buffer);
    }

    /** Most buffers that were out at the same time since this pool was made. */
    public int peakInUse() {
        return peakInUse.get();
    }

    /** Buffers allocated in all (reuse keeps this at most the peak plus buffers of other sizes). */
    public int allocated() {
        return allocated.get();
    }

    /** Drops the idle buffers. */
    public void clear() {
        free.clear();
    }
}
