package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.ProgressEvent;
import io.backupkit.ProgressListener;
import io.backupkit.Snapshot;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobIndex;
import io.backupkit.internal.repo.BlobLocation;
import io.backupkit.internal.repo.BlobReader;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreContext;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The read half of the pipeline and the {@link RestoreContext} engines see: streams whose blobs are
 * fetched ahead in parallel with ranged reads, each blob authenticated, decompressed and checked
 * against its id, and each stream's digest checked at its end: the SHA-256 of its whole plaintext,
 * or (streams written with {@code digest = sha256-chunks}) the SHA-256 over its chunks' SHA-256
 * digests, which in a repository of format version 2 are the very digests that checked the ids.
 */
public final class SnapshotReader implements RestoreContext, AutoCloseable {
    /** Decode batches let ahead per open stream (each of one ranged read, which may serve several). */
    private static final int WINDOW = 4;
    /** Most bytes one read may cover: adjacent blobs are fetched together up to this size. */
    private static final int MAX_READ = 4 * 1024 * 1024;
    /**
     * A read also covers bytes between the blobs it wants, up to this much in all, read and thrown away:
     * a stream's own blobs out of order (parallel workers append them as they finish) and other streams'
     * blobs where streams shared a pack (more streams than the backup's lanes, or a backup made before
     * lanes, when parallel streams interleaved in one pack). On S3 every request costs a round
     * trip and the SDK's per-request work, far more than a few hundred KiB more of its body (pgbench scale
     * 100, 8 streams of ~5 KiB blobs: ~690 reads without); locally it is a slightly longer read. Memory is
     * unchanged: a read still covers at most {@code MAX_READ} bytes.
     */
    private static final int MAX_SKIP = 1024 * 1024;
    /**
     * Most plaintext bytes a stream holds fetched ahead (decoded or being decoded), and half of it per
     * decode batch: a 4 MiB read of data that compressed 100x would otherwise decode 400 MB at once. It
     * bounds decoding, not reads: a read's blobs are decoded batch by batch as the stream is consumed.
     */
    private static final long MAX_AHEAD_RAW = 16L * 1024 * 1024;
    private final DefaultRepository repo;
    private final String snapshotId;
    private final Manifest manifest;
    private final Snapshot snapshot;
    private final int parallelism;
    private final CommandExecutor executor;
    private final ExecutorService fetchers;
    private final AtomicLong bytesRead = new AtomicLong();
    private final List<ProgressListener> listeners;
    private final BlobReader blobs;

    public SnapshotReader(DefaultRepository repo, String snapshotId, int parallelism, CommandExecutor executor,
                          List<ProgressListener> listeners) {
        this(repo, snapshotId, repo.locationIndex(), parallelism, executor, listeners);
    }

    /** With the location index the caller has just read (under the lock it holds), not listed again. */
    public SnapshotReader(DefaultRepository repo, String snapshotId, BlobIndex index, int parallelism, CommandExecutor executor,
                          List<ProgressListener> listeners) {
        this.repo = repo;
        this.snapshotId = snapshotId;
        this.manifest = repo.manifest(snapshotId);
        this.snapshot = manifest.toSnapshot(snapshotId);
        this.parallelism = parallelism;
        this.executor = executor;
        this.listeners = listeners;
        this.blobs = new BlobReader(repo, index);
        AtomicInteger n = new AtomicInteger();
        this.fetchers = Executors.newFixedThreadPool(Math.max(2, parallelism * 2), r -> {
            Thread t = new Thread(r, "backupkit-fetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public Snapshot snapshot() {
        return snapshot;
    }

    @Override
    public int parallelism() {
        return parallelism;
    }

    @Override
    public io.backupkit.Repository repository() {
        return repo;
    }

    @Override
    public CommandExecutor commandExecutor() {
        return executor;
    }

    public long bytesRead() {
        return bytesRead.get();
    }

    @Override
    public InputStream openStream(String name) {
        Manifest.StreamEntry entry = manifest.stream(name);
        if (entry == null) {
            throw new ConfigurationException("snapshot " + snapshot.shortId() + " has no stream " + name);
        }
        return new BlobStream(entry);
    }

    /** Fetches, authenticates, decompresses and checks one blob. */
    public byte[] readBlob(BlobId id, String streamName) {
        return blobs.read(id, streamName, Formats.SNAPSHOTS + snapshotId);
    }

    /** The data blob ids of a stream, in order (list blobs are read as they are needed). */
    public BlobReader.StreamIds ids(Manifest.StreamEntry entry) {
        return blobs.ids(entry, Formats.SNAPSHOTS + snapshotId);
    }

    public BlobReader blobReader() {
        return blobs;
    }

    @Override
    public void close() {
        fetchers.shutdownNow();
    }

    /** One ranged read of a stream's blobs, and how many of them are let ahead (decoding) so far. */
    private static final class Fetch {
        final List<BlobId> ids;
        final List<BlobLocation> locs;
        final CompletableFuture<BlobReader.Range> bytes;
        int next;

        Fetch(List<BlobId> ids, List<BlobLocation> locs, CompletableFuture<BlobReader.Range> bytes) {
            this.ids = ids;
            this.locs = locs;
            this.bytes = bytes;
        }
    }

    private final class BlobStream extends InputStream {
        private final Manifest.StreamEntry entry;
        private final Deque<CompletableFuture<List<BlobReader.Plain>>> ahead = new ArrayDeque<>();
        private final Deque<BlobReader.Plain> ready = new ArrayDeque<>();
        /** The read whose blobs are not all let ahead yet, or null. */
        private Fetch pending;
        private final MessageDigest sha = Hashes.sha256();
        /** Plaintext bytes fetched (or being fetched) and not yet handed to the reader. */
        private long aheadRaw;
        private final BlobReader.StreamIds ids;
        private byte[] current = new byte[0];
        private int pos;
        private long total;
        private boolean verified;
        private boolean closed;

        BlobStream(Manifest.StreamEntry entry) {
            this.entry = entry;
            this.ids = ids(entry);
            fill();
        }

        /**
         * Keeps up to {@link #WINDOW} decode batches ahead. A ranged read (a {@link Fetch}) covers the blobs
         * that {@code MAX_READ} and {@code MAX_SKIP} allow, whatever they decompress to; its blobs are then
         * decoded in batches of at most half of {@code MAX_AHEAD_RAW} plaintext, each only when it is let
         * ahead. Dump text compresses ~100x: when the plaintext bound also cut the reads, a 4 MiB read held
         * ~80 KiB, and pgbench scale 100 took ~130 reads where ~20 do.
         */
        private void fill() {
            while (ahead.size() < WINDOW && (ahead.isEmpty() || aheadRaw < MAX_AHEAD_RAW)) {
                if (pending == null || pending.next >= pending.ids.size()) {
                    pending = null;
                    if (!ids.hasNext()) {
                        return;
                    }
                    pending = plan();
                }
                Fetch f = pending;
                int from = f.next;
                int to = from + 1;
                long raw = f.locs.get(from).rawLength();
                while (to < f.ids.size() && raw + f.locs.get(to).rawLength() <= MAX_AHEAD_RAW / 2) {
                    raw += f.locs.get(to).rawLength();
                    to++;
                }
                f.next = to;
                List<BlobId> batchIds = f.ids.subList(from, to);
                List<BlobLocation> batchLocs = f.locs.subList(from, to);
                aheadRaw += raw;
                ahead.add(f.bytes.thenApplyAsync(range -> blobs.decodeAll(batchIds, batchLocs, range), fetchers));
            }
        }

        /** The next blobs of the stream that one ranged read covers, and that read, started. */
        private Fetch plan() {
            List<BlobId> group = new ArrayList<>();
            List<BlobLocation> locs = new ArrayList<>();
            BlobId id = ids.next();
            BlobLocation first = blobs.locate(id, entry.name(), Formats.SNAPSHOTS + snapshotId);
            group.add(id);
            locs.add(first);
            long start = first.offset();
            long end = (long) first.offset() + first.length();
            long wanted = first.length();
            while (ids.hasNext()) {
                BlobLocation loc = blobs.index().get(ids.peek());
                if (loc == null || !loc.pack().equals(first.pack())) {
                    break;
                }
                long s = Math.min(start, loc.offset());
                long e = Math.max(end, (long) loc.offset() + loc.length());
                if (e - s > MAX_READ || e - s - (wanted + loc.length()) > MAX_SKIP) {
                    break;
                }
                group.add(ids.next());
                locs.add(loc);
                start = s;
                end = e;
                wanted += loc.length();
            }
            CompletableFuture<BlobReader.Range> bytes = CompletableFuture.supplyAsync(() -> blobs.fetch(id, locs, entry.name()), fetchers);
            return new Fetch(group, locs, bytes);
        }

        private boolean advance() throws IOException {
            while (pos >= current.length) {
                if (ready.isEmpty()) {
                    if (ahead.isEmpty()) {
                        finishCheck();
                        return false;
                    }
                    try {
                        ready.addAll(ahead.poll().join());
                    } catch (CompletionException e) {
                        Throwable t = BlobWriter.unwrap(e);
                        if (t instanceof BackupException b) {
                            throw b;
                        }
                        throw new IOException("reading stream " + entry.name() + " failed: " + t, t);
                    }
                    fill();
                }
                BlobReader.Plain p = ready.poll();
                current = p.data();
                aheadRaw -= current.length;
                pos = 0;
                if (entry.overChunks()) {
                    sha.update(p.sha256() != null ? p.sha256() : Hashes.sha256(current, 0, current.length));
                } else {
                    sha.update(current);
                }
                total += current.length;
                long all = bytesRead.addAndGet(current.length);
                PipelineSupport.emit(listeners, new ProgressEvent(ProgressEvent.Kind.RESTORE_PROGRESS, entry.name(), all, 0, -1));
            }
            return true;
        }

        private void finishCheck() {
            if (verified) {
                return;
            }
            verified = true;
            String actual = Hashes.hex(sha.digest());
            if (total != entry.size() || !actual.equals(entry.sha256())) {
                throw new IntegrityException(Formats.SNAPSHOTS + snapshotId, "stream " + entry.name() + " reads back as "
                        + total + " bytes with " + (entry.overChunks() ? "chunk digest " : "SHA-256 ") + actual.substring(0, 16)
                        + "…, the manifest recorded " + entry.size()
                        + " bytes with " + entry.sha256().substring(0, 16) + "…");
            }
        }

        @Override
        public int read() throws IOException {
            if (closed || !advance()) {
                return -1;
            }
            return current[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (closed || !advance()) {
                return -1;
            }
            int n = Math.min(len, current.length - pos);
            System.arraycopy(current, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public void close() {
            closed = true;
            ahead.forEach(f -> f.cancel(true));
            ahead.clear();
            if (pending != null) {
                pending.bytes.cancel(true);
                pending = null;
            }
            ready.clear();
        }
    }
}
