package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.Codecs;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.ProgressEvent;
import io.backupkit.ProgressListener;
import io.backupkit.Snapshot;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLocation;
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
    /** Reads fetched ahead per open stream. */
    private static final int WINDOW = 4;
    /** Most bytes one read may cover: adjacent blobs are fetched together up to this size. */
    private static final int MAX_READ = 4 * 1024 * 1024;
    /**
     * Most plaintext bytes a stream holds fetched ahead (decoded or being decoded), and half of it per
     * read: a 4 MiB read of data that compressed 100x would otherwise decode 400 MB at once.
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

    public SnapshotReader(DefaultRepository repo, String snapshotId, int parallelism, CommandExecutor executor,
                          List<ProgressListener> listeners) {
        this.repo = repo;
        this.snapshotId = snapshotId;
        this.manifest = repo.manifest(snapshotId);
        this.snapshot = manifest.toSnapshot(snapshotId);
        this.parallelism = parallelism;
        this.executor = executor;
        this.listeners = listeners;
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
        return readBlobs(List.of(id), streamName).get(0).data();
    }

    /** A checked blob's plaintext and, where the check computed it, its SHA-256 (else null). */
    private record Plain(byte[] data, byte[] sha256) {
    }

    /**
     * Fetches blobs that lie back to back in one pack with a single ranged read (one request instead
     * of one per blob on S3), then authenticates, decompresses and checks each.
     */
    private List<Plain> readBlobs(List<BlobId> ids, String streamName) {
        List<BlobLocation> locs = new ArrayList<>(ids.size());
        for (BlobId id : ids) {
            locs.add(locate(id, streamName));
        }
        BlobLocation first = locs.get(0);
        BlobLocation last = locs.get(locs.size() - 1);
        int length = last.offset() + last.length() - first.offset();
        byte[] range;
        try (InputStream in = repo.storage().get(first.pack(), first.offset(), length)) {
            range = in.readAllBytes();
        } catch (ObjectNotFoundException e) {
            throw new IntegrityException(first.pack(), "pack is missing (needed for blob " + ids.get(0) + " of stream " + streamName + ")", e);
        } catch (IOException e) {
            throw new io.backupkit.StorageException("reading " + first.pack() + " failed: " + e.getMessage(), true, e);
        }
        if (range.length != length) {
            throw new IntegrityException(first.pack(), "pack is truncated: blobs need bytes " + first.offset() + "+" + length);
        }
        List<Plain> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            out.add(decode(ids.get(i), locs.get(i), range, locs.get(i).offset() - first.offset()));
        }
        return out;
    }

    private BlobLocation locate(BlobId id, String streamName) {
        BlobLocation loc = repo.index().get(id);
        if (loc == null) {
            throw new IntegrityException(Formats.SNAPSHOTS + snapshotId, "blob " + id + " of stream " + streamName + " is in no index");
        }
        return loc;
    }

    private Plain decode(BlobId id, BlobLocation loc, byte[] buf, int off) {
        byte[] plain = repo.sealer().open(buf, off, loc.length(), id.bytes())
                .orElseThrow(() -> new IntegrityException(loc.pack(), "blob " + id + " at offset " + loc.offset()
                        + " fails authentication; the pack is damaged"));
        byte[] raw;
        try {
            raw = Codecs.byId(plain[0] & 0xff).decompress(plain, 1, plain.length - 1, loc.rawLength());
        } catch (RuntimeException e) {
            throw new IntegrityException(loc.pack(), "blob " + id + " does not decompress: " + e.getMessage(), e);
        }
        byte[] digest = null;
        BlobId actual;
        if (repo.hashesChunksOnce()) {
            // one pass: the SHA-256 checks the id and, in BlobStream, the stream's digest
            digest = Hashes.sha256(raw, 0, raw.length);
            actual = repo.blobIdOfDigest(digest);
        } else {
            actual = repo.blobId(raw, 0, raw.length);
        }
        if (!actual.equals(id)) {
            throw new IntegrityException(loc.pack(), "blob " + id + " content does not match its id");
        }
        return new Plain(raw, digest);
    }

    @Override
    public void close() {
        fetchers.shutdownNow();
    }

    private final class BlobStream extends InputStream {
        private final Manifest.StreamEntry entry;
        private final Deque<CompletableFuture<List<Plain>>> ahead = new ArrayDeque<>();
        private final Deque<Plain> ready = new ArrayDeque<>();
        private final MessageDigest sha = Hashes.sha256();
        private int nextToFetch;
        /** Plaintext bytes fetched (or being fetched) and not yet handed to the reader. */
        private long aheadRaw;
        private byte[] current = new byte[0];
        private int pos;
        private long total;
        private boolean verified;
        private boolean closed;

        BlobStream(Manifest.StreamEntry entry) {
            this.entry = entry;
            fill();
        }

        private void fill() {
            List<String> blobs = entry.blobs();
            while (ahead.size() < WINDOW && nextToFetch < blobs.size() && (ahead.isEmpty() || aheadRaw < MAX_AHEAD_RAW)) {
                List<BlobId> group = new ArrayList<>();
                BlobId id = BlobId.parse(blobs.get(nextToFetch++));
                group.add(id);
                BlobLocation prev = repo.index().get(id);
                int bytes = prev == null ? 0 : prev.length();
                long raw = prev == null ? 0 : prev.rawLength();
                while (prev != null && nextToFetch < blobs.size()) {
                    BlobId next = BlobId.parse(blobs.get(nextToFetch));
                    BlobLocation loc = repo.index().get(next);
                    if (loc == null || !loc.pack().equals(prev.pack()) || loc.offset() != prev.offset() + prev.length()
                            || bytes + loc.length() > MAX_READ || raw + loc.rawLength() > MAX_AHEAD_RAW / 2) {
                        break;
                    }
                    group.add(next);
                    bytes += loc.length();
                    raw += loc.rawLength();
                    prev = loc;
                    nextToFetch++;
                }
                aheadRaw += raw;
                ahead.add(CompletableFuture.supplyAsync(() -> readBlobs(group, entry.name()), fetchers));
            }
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
                Plain p = ready.poll();
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
            ready.clear();
        }
    }
}
