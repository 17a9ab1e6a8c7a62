package io.backupkit.internal.chunker;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reused chunk buffers, all of one capacity (the largest chunk). A backup holds a bounded number of
 * chunks at once (one being filled per stream, a few in flight), so after warm-up it allocates
 * nothing per chunk: no garbage, and no multi-MiB allocations that a small G1 heap treats as
 * humongous. At most {@code retain} idle buffers are kept; more are left to the garbage collector.
 */
public final class ChunkPool {
    private final int capacity;
    private final int retain;
    private final ConcurrentLinkedDeque<byte[]> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();

    public ChunkPool(int capacity, int retain) {
        this.capacity = capacity;
        this.retain = retain;
    }

    public int capacity() {
        return capacity;
    }

    /** An empty chunk with a buffer of {@link #capacity()} bytes. */
    public Chunk take() {
        byte[] b = idle.pollFirst();
        if (b != null) {
            idleCount.decrementAndGet();
        } else {
            b = new byte[capacity];
        }
        return new Chunk(this, b);
    }

    void give(byte[] b) {
        if (b.length == capacity && idleCount.incrementAndGet() <= retain) {
            idle.addFirst(b);
        } else if (b.length == capacity) {
            idleCount.decrementAndGet();
        }
    }
}
