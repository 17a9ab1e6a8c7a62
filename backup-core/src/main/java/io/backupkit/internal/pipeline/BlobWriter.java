package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.internal.chunker.Chunk;
import io.backupkit.internal.chunker.ChunkPool;
import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobIndex;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.spi.Payload;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The write half of the pipeline: blob id → dedup → compress → seal → pack → store. Chunks arrive from
 * any number of stream threads; a fixed pool compresses and seals them, an upload pool stores full
 * packs. Memory is bounded by two semaphores: chunks in flight and packs in memory (a pack takes its
 * permit with its first blob and gives it back once stored), so a fast source waits for slow storage
 * instead of filling the heap: {@code uploadThreads + 1} packs at most, being filled or stored, however
 * many lanes. A lane takes a permit only while its pack holds blobs, so a backup that writes one stream at
 * a time still stores up to {@code uploadThreads} packs at once.
 *
 * <p>Lanes: streams written at the same time fill packs of their own (up to {@link #MAX_LANES}, one per
 * stream while there are no more streams than lanes), so a stream's blobs lie together in its packs, in
 * about the order it wrote them, instead of interleaved with the other streams' blobs. A restore reads a
 * stream with ranged reads that cover adjacent blobs; interleaved, each read covered the stream's blobs
 * up to a megabyte of the others' (read and thrown away) and two parallel streams needed about three times
 * as many reads, each a request and its fixed cost on S3 (docs/performance.md, "lanes"). What a backup
 * leaves in its lanes' packs at the end goes into as few packs as fit the pack size.
 *
 * <p>Pack buffers: a pack's buffer (up to the pack size plus the largest chunk, 18 MiB by default) lives
 * while the pack fills, long enough to be promoted to the old generation, which a new buffer per pack then
 * filled with dead ones until a full collection; a long backup's heap grew with its input. So a pack that
 * is done gives its buffer to the next pack: it goes to an idle list of at most as many buffers as permits
 * just before its permit is given back, and a new pack takes the largest idle one; when none is idle it fills
 * segments ({@link PackWriter#inSegments}), which take what it holds and never grow, so a small backup holds
 * about what it stores and no pack leaves grown copies in the old generation. A buffer is handed back only
 * after its last reader: the storage's put has returned, normally or by throwing (the pack's bytes are
 * read nowhere else after {@link PackWriter#finish}), or the merge at {@link #finish()} has copied the
 * pack into another. That is safe only because the storage then holds no reference to the array: it says
 * so with {@link io.backupkit.spi.Storage#readsPayloadOnlyDuringPut()} (LocalStorage, S3Storage). Any
 * other storage may keep the array, as {@link Payload#of(byte[], int, int)} allows, and gets a new buffer
 * per pack as before, rather than a copy: copying a pack before each put would allocate as much as the new
 * buffer it saves, and hold the pack twice while it is stored.
 */
public final class BlobWriter implements AutoCloseable {
    private final DefaultRepository repo;
    private final Sealer sealer;
    private final ChunkPool chunkPool;
    private final int payloadCapacity;
    /** Payload buffers (codec id + compressed chunk), one per worker at most: reused, never garbage. */
    private final ConcurrentLinkedQueue<byte[]> payloadBuffers = new ConcurrentLinkedQueue<>();
    private final CompressionCodec codec;
    private final int packSize;
    private final ExecutorService workers;
    private final ExecutorService uploaders;
    private final Semaphore chunksInFlight;
    private final Semaphore packsInFlight;
    private final BlobIndex dedup;
    /** Blobs this backup stored or is storing: deduplicated against even before any index lists them. */
    private final BlobIndex.IdSet pending = new BlobIndex.IdSet();
    private final List<CompletableFuture<Void>> uploads = new ArrayList<>();
    private final List<PackEntry> written = new ArrayList<>();
    private final AtomicLong bytesStored = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final LongConsumer onPackStored;
    private final Consumer<String> lockGuard;
    private final Checkpoints checkpoints;
    private final Object checkpointMonitor = new Object();
    // guarded by checkpointMonitor: stored packs not yet in any index, and when the last checkpoint was written
    private final List<PackEntry> unindexed = new ArrayList<>();
    private long lastCheckpointNanos = System.nanoTime();
    private final AtomicLong indexBytes = new AtomicLong();
    private final List<String> checkpointNames = new ArrayList<>();
    /** Most lanes: packs filled at once. */
    static final int MAX_LANES = 4;
    /**
     * The pack each lane is filling (null until the lane's next blob), guarded by this, and how many open
     * streams write into each lane.
     */
    private final PackWriter[] lanes;
    /**
     * Guards {@link #laneStreams} only, not this: a worker waits for a pack permit (for storage) with this
     * monitor held, and a stream thread opening or closing its lane must not wait behind it uninterruptibly.
     */
    private final Object laneMonitor = new Object();
    private final int[] laneStreams;
    /** Packs holding blobs in memory (being filled or stored) now, and the most at once: for tests. */
    private final AtomicInteger packsInMemory = new AtomicInteger();
    private final AtomicInteger peakPacksInMemory = new AtomicInteger();
    /** Whether a done pack's buffer goes to the next pack: the storage is done with a payload when a put returns. */
    private final boolean reuseBuffers;
    /** Buffers of packs that nothing reads any more, for the next packs; at most {@link #maxIdleBuffers}. */
    private final List<byte[]> idleBuffers = new ArrayList<>();
    private final int maxIdleBuffers;
    /** Bytes of pack-buffer arrays (new ones, growths, segments) allocated for packs that are done: for tests. */
    private final AtomicLong packBufferBytesAllocated = new AtomicLong();

    /**
     * When a running backup writes an index for the packs it stored so far: after {@code packs} packs or
     * {@code interval}, whichever comes first. A backup that is killed then leaves packs that the next
     * backup finds in the index and does not upload again.
     */
    public record Checkpoints(int packs, java.time.Duration interval) {
        public static final Checkpoints DEFAULT = new Checkpoints(64, java.time.Duration.ofMinutes(10));

        public Checkpoints {
            if (packs < 1 || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("checkpoints need packs >= 1 and a positive interval: " + packs + ", " + interval);
            }
        }
    }

    /** Per-stream counters, updated by workers, and the lane the stream's new blobs go to. */
    public static final class StreamStats {
        final AtomicLong storedBytes = new AtomicLong();
        final AtomicInteger blobs = new AtomicInteger();
        final AtomicInteger newBlobs = new AtomicInteger();
        /** Set by the stream's thread before it submits; read by workers after (the executor orders them). */
        int lane;
    }

    /**
     * @param lockGuard called before every write with what is about to be written; throws when the run's
     *                  lock is lost, so a holder that lost its lock writes nothing more
     */
    public BlobWriter(DefaultRepository repo, int parallelism, LongConsumer onPackStored, Consumer<String> lockGuard,
                      Checkpoints checkpoints) {
        this.repo = repo;
        this.sealer = repo.sealer();
        int maxChunk = repo.chunker().max();
        // one chunk being filled per stream and the chunks in flight; a few more are simply collected
        this.chunkPool = new ChunkPool(maxChunk, 2 * parallelism + 4);
        // room for any codec's worst case (zstd and lz4 add < 1/64 + 1 KiB); beyond it the chunk is stored as is
        this.payloadCapacity = payloadBytes(maxChunk);
        this.dedup = repo.dedupIndex();
        this.codec = repo.compression();
        this.packSize = repo.config().packSize();
        this.workers = Executors.newFixedThreadPool(parallelism, named("backupkit-blob"));
        int uploadThreads = Math.max(2, parallelism);
        this.uploaders = Executors.newFixedThreadPool(uploadThreads, named("backupkit-upload"));
        this.chunksInFlight = new Semaphore(parallelism + 2);
        // one permit per pack holding blobs, filled or stored: as many packs in memory as with one shared
        // pack. A lane's pack takes its permit with its first blob, so lanes no stream fills cost no upload
        // slot; lanes <= uploadThreads, so at least one permit is always held by a pack being stored and a
        // worker waiting for one (with the monitor held) waits only for storage
        int laneCount = Math.min(Math.max(1, parallelism), MAX_LANES);
        this.packsInFlight = new Semaphore(uploadThreads + 1);
        this.reuseBuffers = repo.storage().readsPayloadOnlyDuringPut();
        // a buffer is idle only while no pack holds its permit: never more idle than permits
        this.maxIdleBuffers = uploadThreads + 1;
        this.onPackStored = onPackStored;
        this.lockGuard = lockGuard;
        this.checkpoints = checkpoints;
        this.lanes = new PackWriter[laneCount];
        this.laneStreams = new int[laneCount];
    }

    /**
     * A lane for a stream about to write: the one with the fewest open streams (the lowest on a tie).
     * Give it back with {@link #closeLane} when the stream is closed.
     */
    public int openLane() {
        synchronized (laneMonitor) {
            int best = 0;
            for (int i = 1; i < laneStreams.length; i++) {
                if (laneStreams[i] < laneStreams[best]) {
                    best = i;
                }
            }
            laneStreams[best]++;
            return best;
        }
    }

    public void closeLane(int lane) {
        synchronized (laneMonitor) {
            if (laneStreams[lane] > 0) {
                laneStreams[lane]--;
            }
        }
    }

    /** Number of lanes (packs filled at once). */
    int laneCount() {
        return lanes.length;
    }

    /** What a full pack needs: the pack size, the largest blob that may end it, and its trailer. */
    private int fullPackBytes() {
        return packSize + repo.chunker().max() + 64 * 1024;
    }

    private PackWriter newPack() {
        byte[] idle = takeIdleBuffer();
        if (idle != null) {
            return new PackWriter(idle, fullPackBytes());
        }
        // no stored pack's buffer to fill again (the first packs; a backup whose packs never fill): the
        // blobs go into segments that take what the pack holds, copied once into one array when it is stored
        return PackWriter.inSegments(fullPackBytes(), this::packArray);
    }

    /**
     * The array a pack in segments is gathered into at its end: a new one, of the full size for a full pack
     * (its buffer then goes to later packs, as a grown buffer did) and of just the bytes needed for a smaller
     * one (a backup's last packs, merged: no pack follows them). Never an idle buffer: a pack in segments
     * exists because none was idle when it started, and taking the next one at its end would leave the next
     * pack none again, so every pack would fill segments and be copied once more.
     */
    private byte[] packArray(int bytes) {
        byte[] array = new byte[bytes > packSize ? Math.max(bytes, fullPackBytes()) : bytes];
        packBufferBytesAllocated.addAndGet(array.length);
        return array;
    }

    /** The largest idle buffer (it needs the fewest growths), or null. */
    private byte[] takeIdleBuffer() {
        synchronized (idleBuffers) {
            int largest = -1;
            for (int i = 0; i < idleBuffers.size(); i++) {
                if (largest < 0 || idleBuffers.get(i).length > idleBuffers.get(largest).length) {
                    largest = i;
                }
            }
            return largest < 0 ? null : idleBuffers.remove(largest);
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** The pool that chunks for this writer come from (buffers of the largest chunk). */
    public ChunkPool chunkPool() {
        return chunkPool;
    }

    /** Queues a chunk; blocks while too many chunks are in flight. The future yields the blob id. */
    public CompletableFuture<BlobId> submit(byte[] chunk, StreamStats stats) {
        return submit(Chunk.of(chunk), stats);
    }

    /**
     * Queues a chunk, which this writer now owns (it releases its buffer); blocks while too many chunks
     * are in flight. When the chunk carries its SHA-256 (a repository that hashes each chunk once), the
     * id is derived from it without reading the chunk again. The future yields the blob id.
     */
    public CompletableFuture<BlobId> submit(Chunk chunk, StreamStats stats) {
        CompletableFuture<BlobId> f;
        try {
            throwIfFailed();
            try {
                chunksInFlight.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BackupException("backup interrupted");
            }
            try {
                f = CompletableFuture.supplyAsync(() -> process(chunk, stats), workers);
            } catch (RuntimeException e) {
                chunksInFlight.release();
                throw e;
            }
        } catch (RuntimeException e) {
            chunk.release();
            throw e;
        }
        return f.whenComplete((id, err) -> {
            chunksInFlight.release();
            if (err != null) {
                failure.compareAndSet(null, unwrap(err));
            }
        });
    }

    private BlobId process(Chunk chunk, StreamStats stats) {
        byte[] payload = null;
        try {
            int length = chunk.length();
            byte[] digest = chunk.sha256();
            BlobId id = digest != null ? repo.blobIdOfDigest(digest) : repo.blobId(chunk.data(), 0, length);
            stats.blobs.incrementAndGet();
            if (dedup.containsForDedup(id) || !pending.add(id)) {
                return id;
            }
            // payload = codec id || compressed bytes, built in a reused buffer
            payload = takePayloadBuffer(length);
            int n = codec.compress(chunk.data(), 0, length, payload, 1);
            CompressionCodec used = codec;
            if (n < 0 || n >= length) {
                System.arraycopy(chunk.data(), 0, payload, 1, length);
                n = length;
                used = BuiltinCodecs.NONE;
            }
            payload[0] = (byte) used.id();
            chunk.release();
            int sealedLength = n + 1 + sealer.overhead();
            PackWriter full = null;
            synchronized (this) {
                int lane = Math.floorMod(stats.lane, lanes.length);
                PackWriter current = lanes[lane];
                if (current == null) {
                    // a lane's pack exists only while it holds blobs; its permit is taken before its buffer,
                    // with the monitor held: the other workers wait here too, so the packs in memory never
                    // exceed the permits
                    acquirePackPermit();
                    peakPacksInMemory.accumulateAndGet(packsInMemory.incrementAndGet(), Math::max);
                    try {
                        current = newPack();
                    } catch (Throwable t) {
                        // no pack holds the permit (an OutOfMemoryError here): give it back, or two such
                        // failures could leave a worker waiting for a permit forever with the monitor held
                        packDone(null);
                        throw t;
                    }
                    lanes[lane] = current;
                }
                // sealed straight into the pack: no per-blob array, and the copy is of compressed bytes only
                current.seal(id, sealer, payload, 0, n + 1, length);
                if (current.size() >= packSize) {
                    // the full pack keeps its permit until stored; the lane's next pack takes one with its first blob
                    full = current;
                    lanes[lane] = null;
                }
            }
            stats.newBlobs.incrementAndGet();
            stats.storedBytes.addAndGet(sealedLength);
            if (full != null) {
                upload(full);
            }
            return id;
        } finally {
            chunk.release();
            if (payload != null && payload.length == payloadCapacity) {
                payloadBuffers.offer(payload);
            }
        }
    }

    /** Codec id + the worst case of any built-in codec for {@code length} bytes. */
    private static int payloadBytes(int length) {
        return 1 + length + (length >> 6) + 1024;
    }

    /**
     * A reused buffer for the payload of {@code length} plaintext bytes. Blobs larger than a chunk (list
     * blobs in a repository with small chunks) get a buffer of their own, which is not pooled.
     */
    private byte[] takePayloadBuffer(int length) {
        if (payloadBytes(length) > payloadCapacity) {
            return new byte[payloadBytes(length)];
        }
        byte[] b = payloadBuffers.poll();
        return b != null ? b : new byte[payloadCapacity];
    }

    private void acquirePackPermit() {
        try {
            packsInFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException("backup interrupted");
        }
    }

    /** Stores a pack on the upload pool; it holds one of {@code packsInFlight}'s permits (taken with its first blob). */
    private void upload(PackWriter pack) {
        PackWriter.Finished f;
        try {
            f = pack.finish(sealer);
        } catch (RuntimeException e) {
            packDone(pack);
            throw e;
        }
        CompletableFuture<Void> u;
        try {
            u = CompletableFuture.runAsync(() -> {
                try {
                    lockGuard.accept("storing pack " + f.entry().pack());
                    repo.storage().putIfAbsent(f.entry().pack(), Payload.of(f.bytes(), 0, f.length()));
                    synchronized (written) {
                        written.add(f.entry());
                    }
                    bytesStored.addAndGet(f.length());
                    stored(f.entry());
                    onPackStored.accept(bytesStored.get());
                } finally {
                    // the put has returned (or never began): the storage is done with f.bytes()
                    packDone(pack);
                }
            }, uploaders);
        } catch (RuntimeException e) {
            packDone(pack);
            throw e;
        }
        u.whenComplete((v, err) -> {
            if (err != null) {
                failure.compareAndSet(null, unwrap(err));
            }
        });
        synchronized (uploads) {
            uploads.add(u);
        }
    }

    /**
     * A pack holding a permit is done (stored, failed, merged into another) and nothing reads its buffer any
     * more: the buffer goes to the idle list before the permit is given back, so the pack that takes the
     * permit finds it there. {@code pack} is null when no pack came to hold the permit.
     */
    private void packDone(PackWriter pack) {
        if (pack != null) {
            packBufferBytesAllocated.addAndGet(pack.bytesAllocated());
            if (reuseBuffers && pack.buffer() != null) {
                synchronized (idleBuffers) {
                    if (idleBuffers.size() < maxIdleBuffers) {
                        idleBuffers.add(pack.buffer());
                    }
                }
            }
        }
        packsInMemory.decrementAndGet();
        packsInFlight.release();
    }

    /** Bytes of the pack-buffer arrays that the packs done so far allocated (new ones, growths, segments): for tests. */
    long packBufferBytesAllocated() {
        return packBufferBytesAllocated.get();
    }

    /** The most packs holding blobs that were in memory at once (being filled, waiting or being stored). */
    int peakPacksInMemory() {
        return peakPacksInMemory.get();
    }

    /** Packs holding blobs in memory now, and the packs-in-memory permits free: for tests (after finish, 0 and all). */
    int packsInMemory() {
        return packsInMemory.get();
    }

    int freePackPermits() {
        return packsInFlight.availablePermits();
    }

    /** Records a durable pack and writes an index checkpoint when one is due. */
    private void stored(PackEntry pack) {
        synchronized (checkpointMonitor) {
            unindexed.add(pack);
            boolean due = unindexed.size() >= checkpoints.packs()
                    || System.nanoTime() - lastCheckpointNanos >= checkpoints.interval().toNanos();
            if (due) {
                writeCheckpoint();
            }
        }
    }

    // caller holds checkpointMonitor
    private void writeCheckpoint() {
        if (unindexed.isEmpty()) {
            return;
        }
        lockGuard.accept("writing an index checkpoint");
        DefaultRepository.IndexWrite w = repo.writeIndex(IndexFile.CHECKPOINT, List.of(), List.copyOf(unindexed));
        indexBytes.addAndGet(w.bytes());
        checkpointNames.add(w.name());
        unindexed.clear();
        lastCheckpointNanos = System.nanoTime();
    }

    /**
     * After a failure: indexes the packs that reached storage and are in no index yet, so the next backup
     * reuses them. Best effort; never throws (the original failure is what the caller reports).
     */
    public void indexStoredPacks() {
        synchronized (checkpointMonitor) {
            try {
                writeCheckpoint();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(BlobWriter.class).warn("could not index the {} packs stored before the failure: {}",
                        unindexed.size(), e.getMessage());
            }
        }
    }

    /** Bytes of index checkpoints written so far. */
    public long indexBytes() {
        return indexBytes.get();
    }

    /** Names of the index checkpoints written so far (the backup's last index commits them). */
    public List<String> checkpointNames() {
        synchronized (checkpointMonitor) {
            return List.copyOf(checkpointNames);
        }
    }

    /** Bytes of packs stored so far. */
    public long bytesStored() {
        return bytesStored.get();
    }

    /**
     * Stores the lanes' last packs and waits for every upload. Call after all stream futures completed.
     *
     * @return the packs written that no checkpoint indexed yet, ready for the final index
     */
    public List<PackEntry> finish() {
        throwIfFailed();
        List<PackWriter> last = new ArrayList<>();
        synchronized (this) {
            for (int i = 0; i < lanes.length; i++) {
                if (lanes[i] != null) {
                    last.add(lanes[i]);
                    lanes[i] = null;
                }
            }
        }
        // each holds its permit already; those merged away gave theirs back
        for (PackWriter p : merged(last)) {
            upload(p);
        }
        List<CompletableFuture<Void>> all;
        synchronized (uploads) {
            all = List.copyOf(uploads);
        }
        try {
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            throw asBackupException(unwrap(e));
        }
        throwIfFailed();
        synchronized (checkpointMonitor) {
            List<PackEntry> rest = List.copyOf(unindexed);
            unindexed.clear();
            return rest;
        }
    }

    /**
     * The lanes' last packs, each smaller than the pack size, in as few packs as fit it: the largest
     * first, each of the others appended to the first pack it fits in (sealed blobs do not depend on where
     * they lie in a pack, so they are copied as they are).
     */
    private List<PackWriter> merged(List<PackWriter> packs) {
        List<PackWriter> bySize = new ArrayList<>(packs);
        bySize.sort((a, b) -> Integer.compare(b.size(), a.size()));
        List<PackWriter> out = new ArrayList<>();
        for (PackWriter p : bySize) {
            PackWriter into = null;
            for (PackWriter o : out) {
                if (o.size() + p.size() <= packSize) {
                    into = o;
                    break;
                }
            }
            if (into == null) {
                out.add(p);
            } else {
                // appendAll copied p's blobs: nothing reads p's buffer after it
                into.appendAll(p);
                packDone(p);
            }
        }
        return out;
    }

    private void throwIfFailed() {
        Throwable t = failure.get();
        if (t != null) {
            throw asBackupException(t);
        }
    }

    static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    static RuntimeException asBackupException(Throwable t) {
        if (t instanceof BackupException b) {
            return b;
        }
        return new BackupException("backup pipeline failed: " + t, t);
    }

    /**
     * Stops the workers and uploads, and waits (at most {@link #CLOSE_WAIT_SECONDS}) until they have: nothing of
     * a writer that failed or was abandoned writes into the storage after close returns (an upload under way,
     * interrupted in a storage that does not notice, would otherwise still store its pack a moment later).
     */
    @Override
    public void close() {
        workers.shutdownNow();
        uploaders.shutdownNow();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CLOSE_WAIT_SECONDS);
            for (ExecutorService e : List.of(workers, uploaders)) {
                e.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long {@link #close} waits for an upload under way. */
    static final int CLOSE_WAIT_SECONDS = 30;
}
