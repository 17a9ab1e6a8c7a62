package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.StreamResult;
import io.backupkit.internal.chunker.Chunk;
import io.backupkit.internal.chunker.Chunker;
import io.backupkit.internal.chunker.ChunkingOutputStream;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLists;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.spi.BlockOutputStream;

import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;

/**
 * One named stream of a backup: what the source writes is chunked, hashed (each chunk's SHA-256 once,
 * in repositories of format version 2; the whole plaintext and each chunk separately in version 1)
 * and handed to the {@link BlobWriter}. The blob ids, in order, go into list blobs
 * ({@link BlobLists}) as the blobs complete, so memory does not grow with the stream. Closing waits
 * for its blobs and seals the stream's entry. {@link #boundary()} cuts the pending chunk where the
 * source says (file starts in an archive).
 */
final class StreamWriter extends BlockOutputStream {
    private final String name;
    private final ChunkingOutputStream chunking;
    private final BlobWriter writer;
    private final LongConsumer onBytes;
    /** Version 1: SHA-256 of the whole plaintext; version 2: SHA-256 over the chunks' SHA-256 digests. */
    private final MessageDigest sha256 = Hashes.sha256();
    private final MessageDigest chunkDigest = Hashes.sha256();
    private final boolean hashChunksOnce;
    /** Data blobs submitted, oldest first; drained into the current list as they complete. */
    private final Deque<CompletableFuture<BlobId>> inFlight = new ArrayDeque<>();
    private final BlobLists.Builder list = new BlobLists.Builder();
    private final List<CompletableFuture<BlobId>> lists = new ArrayList<>();
    private final BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
    private final BlobWriter.StreamStats listStats = new BlobWriter.StreamStats();
    /** The writer's lane this stream's blobs go to, taken at its first chunk; -1 before it and after close. */
    private int lane = -1;
    private long size;
    private long blobCount;
    private volatile Manifest.StreamEntry entry;

    StreamWriter(String name, Chunker chunker, BlobWriter writer, boolean hashChunksOnce, LongConsumer onBytes) {
        this.name = name;
        this.writer = writer;
        this.onBytes = onBytes;
        this.hashChunksOnce = hashChunksOnce;
        this.chunking = new ChunkingOutputStream(chunker, writer.chunkPool(), this::onChunk);
    }

    private void onChunk(Chunk chunk) throws IOException {
        int length = chunk.length();
        if (hashChunksOnce) {
            // the one pass over the chunk: its SHA-256 gives the blob id and feeds the stream's digest,
            // computed here in stream order, independently of the ids the workers return
            chunkDigest.update(chunk.data(), 0, length);
            byte[] d = chunkDigest.digest();
            chunk.sha256(d);
            sha256.update(d);
        } else {
            sha256.update(chunk.data(), 0, length);
        }
        size += length;
        if (lane < 0) {
            lane = writer.openLane();
            stats.lane = lane;
            listStats.lane = lane;
        }
        try {
            inFlight.add(writer.submit(chunk, stats));
            drain(false);
        } catch (BackupException e) {
            throw new IOException("stream " + name + ": " + e.getMessage(), e);
        }
        onBytes.accept(length);
    }

    /** Moves completed blob ids (in order) into the list; with {@code all}, waits for every blob. */
    private void drain(boolean all) throws IOException {
        while (!inFlight.isEmpty() && (all || inFlight.peek().isDone())) {
            BlobId id;
            try {
                id = inFlight.poll().join();
            } catch (CompletionException e) {
                Throwable t = BlobWriter.unwrap(e);
                throw new IOException("stream " + name + ": " + t.getMessage(), t);
            }
            list.add(id);
            blobCount++;
            if (BlobLists.endsAfter(id, list.count())) {
                lists.add(writer.submit(list.take(), listStats));
            }
        }
    }

    @Override
    public void write(int b) throws IOException {
        chunking.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (entry != null) {
            throw new IOException("stream " + name + " is closed");
        }
        chunking.write(b, off, len);
    }

    @Override
    public void boundary() throws IOException {
        if (entry != null) {
            throw new IOException("stream " + name + " is closed");
        }
        chunking.boundary();
    }

    String name() {
        return name;
    }

    /** The writer's lane this stream writes into: -1 before its first chunk and once closed. */
    int lane() {
        return lane;
    }

    boolean closed() {
        return entry != null;
    }

    @Override
    public synchronized void close() throws IOException {
        if (entry != null) {
            return;
        }
        try {
            closeChunks();
        } finally {
            if (lane >= 0) {
                writer.closeLane(lane);
                lane = -1;
            }
        }
    }

    private void closeChunks() throws IOException {
        chunking.close();
        List<String> ids = new ArrayList<>(lists.size() + 1);
        try {
            drain(true);
            if (list.count() > 0) {
                lists.add(writer.submit(list.take(), listStats));
            }
            for (CompletableFuture<BlobId> f : lists) {
                ids.add(f.join().hex());
            }
        } catch (CompletionException e) {
            Throwable t = BlobWriter.unwrap(e);
            throw new IOException("stream " + name + ": " + t.getMessage(), t);
        } catch (BackupException e) {
            throw new IOException("stream " + name + ": " + e.getMessage(), e);
        }
        lists.clear();
        entry = Manifest.StreamEntry.of(name, size, Hashes.hex(sha256.digest()), blobCount, ids,
                hashChunksOnce ? Manifest.StreamEntry.DIGEST_CHUNKS : null);
    }

    Manifest.StreamEntry entry() {
        return entry;
    }

    StreamResult result() {
        return new StreamResult(name, size, stats.storedBytes.get() + listStats.storedBytes.get(), stats.blobs.get(),
                stats.newBlobs.get());
    }
}
