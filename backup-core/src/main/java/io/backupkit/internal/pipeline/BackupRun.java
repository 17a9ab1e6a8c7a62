package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.ProgressEvent;
import io.backupkit.ProgressListener;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.StreamResult;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Interrupts;
import io.backupkit.internal.chunker.Chunker;
import io.backupkit.internal.chunker.FixedSizeChunker;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.BlockOutputStream;
import io.backupkit.spi.Chunking;
import io.backupkit.spi.CommandExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One backup: lock, stream the source through the {@link BlobWriter}, then write index and manifest.
 * The manifest is written last, so a backup that fails anywhere leaves no snapshot, only packs that
 * no index lists (reported by check, removed by prune).
 */
public final class BackupRun {
    private static final Logger LOG = LoggerFactory.getLogger(BackupRun.class);
    private final DefaultRepository repo;
    private final BackupSource source;
    private final int parallelism;
    private final List<ProgressListener> listeners;
    private final Map<String, String> tags;
    private final CommandExecutor executor;
    private final BlobWriter.Checkpoints checkpoints;
    private final AtomicLong bytesRead = new AtomicLong();
    private volatile long expectedBytes = -1;
    private volatile BlobWriter writer;

    public BackupRun(Repository repository, BackupSource source, int parallelism, List<ProgressListener> listeners,
                     Map<String, String> tags, CommandExecutor executor, BlobWriter.Checkpoints checkpoints) {
        this.repo = PipelineSupport.internal(repository);
        this.source = source;
        this.parallelism = parallelism;
        this.listeners = listeners;
        this.tags = tags;
        this.executor = executor;
        this.checkpoints = checkpoints;
    }

    public BackupResult run() {
        Instant start = Instant.now();
        long t0 = System.nanoTime();
        try (LockManager.Lock lock = repo.locks().acquire(false, "backup")) {
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> emit(ProgressEvent.Kind.PACK_STORED, null, stored),
                    lock::checkHeld, checkpoints)) {
                writer = w;
                Context ctx = new Context();
                List<StreamWriter> streams;
                List<PackEntry> packs;
                try {
                    try {
                        source.backup(ctx);
                    } catch (BackupException e) {
                        throw e;
                    } catch (RuntimeException e) {
                        throw new EngineException("backup of " + source.describe() + " failed: " + e.getMessage(), e);
                    }
                    streams = ctx.streams();
                    for (StreamWriter s : streams) {
                        if (!s.closed()) {
                            throw new EngineException("the " + source.engine() + " source did not finish stream " + s.name());
                        }
                    }
                    packs = w.finish();
                } catch (RuntimeException e) {
                    // what reached storage is indexed, so running the backup again does not upload it again; an
                    // interrupted engine returns with the flag set, on which storage calls fail: clear it meanwhile
                    Interrupts.uninterrupted(w::indexStoredPacks);
                    throw e;
                }
                lock.checkHeld("writing the index");
                long stored = w.bytesStored() + w.indexBytes()
                        + repo.writeIndex(IndexFile.BACKUP, w.checkpointNames(), packs).bytes();
                long read = bytesRead.get();
                long durationMillis = Duration.ofNanos(System.nanoTime() - t0).toMillis();
                Manifest manifest = new Manifest(Manifest.VERSION, start, HostName.get(), source.engine(), source.describe(), tags,
                        streams.stream().map(StreamWriter::entry).toList(), ctx.metadata(), read, stored, durationMillis, null);
                // the commit point: a holder that lost its lock may race a prune that no longer sees it
                lock.checkHeld("writing the snapshot manifest");
                Map.Entry<String, Long> written = repo.writeManifest(manifest);
                // the manifest records what packs and index took; the result adds the manifest itself
                stored += written.getValue();
                Snapshot snapshot = manifest.toSnapshot(written.getKey());
                List<StreamResult> results = streams.stream().map(StreamWriter::result).toList();
                emit(ProgressEvent.Kind.SNAPSHOT_SAVED, null, stored);
                LOG.info("snapshot {} of {}: {} bytes read, {} bytes stored in {} ms", snapshot.shortId(), source.describe(),
                        read, stored, durationMillis);
                return new BackupResult(snapshot, read, stored, Duration.ofNanos(System.nanoTime() - t0), results);
            }
        }
    }

    private void emit(ProgressEvent.Kind kind, String stream, long stored) {
        PipelineSupport.emit(listeners, new ProgressEvent(kind, stream, bytesRead.get(), stored, expectedBytes));
    }


    private final class Context implements BackupContext {
        private final List<StreamWriter> streams = new ArrayList<>();
        private final Map<String, Object> metadata = new LinkedHashMap<>();

        @Override
        public int parallelism() {
            return parallelism;
        }

        @Override
        public CommandExecutor commandExecutor() {
            return executor;
        }

        @Override
        public OutputStream newStream(String name) {
            return newStream(name, Chunking.contentDefined());
        }

        @Override
        public BlockOutputStream newStream(String name, Chunking chunking) {
            if (name == null || name.isBlank()) {
                throw new ConfigurationException("stream name must not be blank");
            }
            if (chunking == null) {
                throw new ConfigurationException("chunking of stream " + name + " must not be null");
            }
            // a fixed block is capped at the repository's maximum chunk: packs and memory are sized by it
            Chunker chunker = chunking.isFixed()
                    ? new FixedSizeChunker(Math.min(chunking.blockSize(), repo.chunker().max()))
                    : repo.chunker();
            StreamWriter s = new StreamWriter(name, chunker, writer, repo.hashesChunksOnce(), n -> {
                long total = bytesRead.addAndGet(n);
                PipelineSupport.emit(listeners, new ProgressEvent(ProgressEvent.Kind.PROGRESS, name, total, writer.bytesStored(), expectedBytes));
            });
            synchronized (streams) {
                if (streams.stream().anyMatch(x -> x.name().equals(name))) {
                    throw new ConfigurationException("stream " + name + " was opened twice");
                }
                streams.add(s);
            }
            PipelineSupport.emit(listeners, new ProgressEvent(ProgressEvent.Kind.STREAM_STARTED, name, bytesRead.get(), writer.bytesStored(), expectedBytes));
            return s;
        }

        @Override
        public void putMetadata(String key, Object value) {
            synchronized (metadata) {
                metadata.put(key, value);
            }
        }

        @Override
        public void expectedBytes(long bytes) {
            expectedBytes = bytes;
        }

        List<StreamWriter> streams() {
            synchronized (streams) {
                return List.copyOf(streams);
            }
        }

        Map<String, Object> metadata() {
            synchronized (metadata) {
                return new LinkedHashMap<>(metadata);
            }
        }
    }
}
