package io.backupkit.internal.pipeline;

import io.backupkit.CopyResult;
import io.backupkit.IntegrityException;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.spi.ObjectInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** Copies snapshots between repositories: source streams are read and written through the destination's pipeline. */
public final class CopyRun {
    private static final Logger LOG = LoggerFactory.getLogger(CopyRun.class);
    private final DefaultRepository source;
    private final DefaultRepository destination;
    private final List<String> wanted;
    private final int parallelism;

    public CopyRun(Repository source, Repository destination, List<String> wanted, int parallelism) {
        this.source = PipelineSupport.internal(source);
        this.destination = PipelineSupport.internal(destination);
        this.wanted = wanted;
        this.parallelism = parallelism;
    }

    public CopyResult run() {
        long t0 = System.nanoTime();
        Set<String> ids = new LinkedHashSet<>();
        if (wanted.isEmpty()) {
            source.snapshots().list().forEach(s -> ids.add(s.id()));
        } else {
            wanted.forEach(w -> ids.add(source.resolveSnapshotId(w)));
        }
        List<CopyResult.Copied> copied = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        AtomicLong read = new AtomicLong();
        AtomicLong written = new AtomicLong();
        int reused = 0;
        try (LockManager.Lock from = source.locks().acquire(false, "copy from");
             LockManager.Lock to = destination.locks().acquire(false, "copy to")) {
            // what the destination has: copies (by original id) and streams (by size and SHA-256)
            Set<String> originals = new HashSet<>();
            Map<String, Manifest.StreamEntry> streamsThere = new HashMap<>();
            for (ObjectInfo o : destination.storage().list(Formats.SNAPSHOTS)) {
                Manifest m = destination.manifest(Formats.idOf(o.name()));
                if (m.original() != null) {
                    originals.add(m.original());
                }
                for (Manifest.StreamEntry s : m.streams()) {
                    if (s.blobs() == null) {
                        streamsThere.putIfAbsent(s.size() + "/" + s.sha256(), s);
                    }
                }
            }
            for (String id : ids) {
                if (originals.contains(id)) {
                    skipped.add(id);
                    continue;
                }
                Manifest m = source.manifest(id);
                long r0 = read.get();
                List<Manifest.StreamEntry> entries = new ArrayList<>();
                try (SnapshotReader reader = new SnapshotReader(source, id, parallelism, null, List.of());
                     BlobWriter w = new BlobWriter(destination, parallelism, stored -> { }, to::checkHeld,
                             BlobWriter.Checkpoints.DEFAULT)) {
                    for (Manifest.StreamEntry s : m.streams()) {
                        Manifest.StreamEntry there = streamsThere.get(s.size() + "/" + s.sha256());
                        if (there != null) {
                            // same content already stored at the destination: reuse its blob lists, read nothing
                            entries.add(Manifest.StreamEntry.of(s.name(), s.size(), s.sha256(), there.count(), there.lists()));
                            reused++;
                            continue;
                        }
                        StreamWriter out = new StreamWriter(s.name(), destination.chunker(), w, read::addAndGet);
                        try (InputStream in = reader.openStream(s.name())) {
                            in.transferTo(out);
                            out.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException("copying stream " + s.name() + " of snapshot " + id.substring(0, 8), e);
                        }
                        Manifest.StreamEntry e = out.entry();
                        if (!e.sha256().equals(s.sha256()) || e.size() != s.size()) {
                            throw new IntegrityException(Formats.SNAPSHOTS + id, "stream " + s.name() + " copied as " + e.size()
                                    + " bytes with another SHA-256 than the source recorded; nothing was committed");
                        }
                        entries.add(e);
                        streamsThere.putIfAbsent(e.size() + "/" + e.sha256(), e);
                    }
                    List<PackEntry> packs = w.finish();
                    to.checkHeld("writing the index");
                    written.addAndGet(w.bytesStored() + w.indexBytes()
                            + destination.writeIndex(IndexFile.BACKUP, w.checkpointNames(), packs).bytes());
                    Manifest copy = new Manifest(Manifest.VERSION, m.time(), m.hostname(), m.engine(), m.source(), m.tags(), entries,
                            m.metadata(), m.bytesRead(), m.bytesStored(), m.durationMillis(), id);
                    to.checkHeld("writing the snapshot manifest");
                    Map.Entry<String, Long> stored = destination.writeManifest(copy);
                    written.addAndGet(stored.getValue());
                    copied.add(new CopyResult.Copied(id, stored.getKey()));
                    LOG.info("copied snapshot {} to {} as {}: {} bytes read", id.substring(0, 8), destination.location(),
                            stored.getKey().substring(0, 8), read.get() - r0);
                }
            }
        }
        return new CopyResult(copied, skipped, read.get(), written.get(), reused, Duration.ofNanos(System.nanoTime() - t0));
    }
}
