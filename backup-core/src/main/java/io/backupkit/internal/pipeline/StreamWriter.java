package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.StreamResult;
import io.backupkit.internal.chunker.Chunk;
import io.backupkit.internal.chunker.ChunkingOutputStream;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.Manifest;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;

/**
 * One named stream of a backup: what the source writes is chunked, hashed (each chunk's SHA-256 once,
 * in repositories of format version 2; the whole plaintext and each chunk separately in version 1)
 * and handed to the {@link BlobWriter}. Closing waits for its blobs and seals the stream's entry.
 */
final class StreamWriter extends OutputStream {
    private final String name;
    private final ChunkingOutputStream chunking;
    private final BlobWriter writer;
    private final LongConsumer onBytes;
    /** Version 1: SHA-256 of the whole plaintext; version 2: SHA-256 over the chunks' SHA-256 digests. */
    private final MessageDigest sha256 = Hashes.sha256();
    private final MessageDigest chunkDigest = Hashes.sha256();
    private final boolean hashChunksOnce;
    private final List<CompletableFuture<BlobId>> blobs = new ArrayList<>();
    private final BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
    private long size;
    private volatile Manifest.StreamEntry entry;

    StreamWriter(String name, FastCdcChunker chunker, BlobWriter writer, boolean hashChunksOnce, LongConsumer onBytes) {
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
        try {
            blobs.add(writer.submit(chunk, stats));
        } catch (BackupException e) {
            throw new IOException("stream " + name + ": " + e.getMessage(), e);
        }
        onBytes.accept(length);
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

    String name() {
        return name;
    }

    boolean closed() {
        return entry != null;
    }

    @Override
    public synchronized void close() throws IOException {
        if (entry != null) {
            return;
        }
        chunking.close();
        List<String> ids = new ArrayList<>(blobs.size());
        try {
            for (CompletableFuture<BlobId> f : blobs) {
                ids.add(f.join().hex());
            }
        } catch (CompletionException e) {
            Throwable t = BlobWriter.unwrap(e);
            throw new IOException("stream " + name + ": " + t.getMessage(), t);
        }
        blobs.clear();
        entry = new Manifest.StreamEntry(name, size, Hashes.hex(sha256.digest()), List.copyOf(ids),
                hashChunksOnce ? Manifest.StreamEntry.DIGEST_CHUNKS : null);
    }

    Manifest.StreamEntry entry() {
        return entry;
    }

    StreamResult result() {
        return new StreamResult(name, size, stats.storedBytes.get(), stats.blobs.get(), stats.newBlobs.get());
    }
}
