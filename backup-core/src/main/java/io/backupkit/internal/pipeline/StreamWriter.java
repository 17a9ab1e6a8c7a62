package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.StreamResult;
import io.backupkit.internal.chunker.Chunker;
import io.backupkit.internal.chunker.ChunkingOutputStream;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.spi.BlockOutputStream;

import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;

/**
 * One named stream of a backup: what the source writes is hashed (SHA-256 of the whole plaintext),
 * chunked and handed to the {@link BlobWriter}. Closing waits for its blobs and seals the stream's entry.
 * {@link #boundary()} cuts the pending chunk where the source says (file starts in an archive).
 */
final class StreamWriter extends BlockOutputStream {
    private final String name;
    private final ChunkingOutputStream chunking;
    private final BlobWriter writer;
    private final LongConsumer onBytes;
    private final MessageDigest sha256 = Hashes.sha256();
    private final List<CompletableFuture<BlobId>> blobs = new ArrayList<>();
    private final BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
    private long size;
    private volatile Manifest.StreamEntry entry;

    StreamWriter(String name, Chunker chunker, BlobWriter writer, LongConsumer onBytes) {
        this.name = name;
        this.writer = writer;
        this.onBytes = onBytes;
        this.chunking = new ChunkingOutputStream(chunker, this::onChunk);
    }

    private void onChunk(byte[] data) throws IOException {
        sha256.update(data);
        size += data.length;
        try {
            blobs.add(writer.submit(data, stats));
        } catch (BackupException e) {
            throw new IOException("stream " + name + ": " + e.getMessage(), e);
        }
        onBytes.accept(data.length);
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
        entry = new Manifest.StreamEntry(name, size, Hashes.hex(sha256.digest()), List.copyOf(ids));
    }

    Manifest.StreamEntry entry() {
        return entry;
    }

    StreamResult result() {
        return new StreamResult(name, size, stats.storedBytes.get(), stats.blobs.get(), stats.newBlobs.get());
    }
}
