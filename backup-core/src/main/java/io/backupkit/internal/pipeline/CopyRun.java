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
            // what the destination has: copies (by original id) and streams (by size and digest; a digest is
            // only comparable with one of its own kind, see contentKey)
            Set<String> originals = new HashSet<>();
            Map<String, Manifest.StreamEntry> streamsThere = new HashMap<>();
            Map<String, Manifest> copiesThere = new HashMap<>();
            for (ObjectInfo o : destination.storage().list(Formats.SNAPSHOTS)) {
                Manifest m = destination.manifest(Formats.idOf(o.name()));
                if (m.original() != null) {
                    originals.add(m.original());
                    copiesThere.put(m.original(), m);
                }
                for (Manifest.StreamEntry s : m.streams()) {
                    if (s.blobs() == null) {
                        streamsThere.putIfAbsent(contentKey(s), s);
                    }
                }
            }
            // Digests over chunks depend on where a repository cuts, so a stream copied earlier is also
            // known by the digest its source recorded (read from the source's manifest of the original).
            Set<String> inSource = new HashSet<>();
            source.storage().list(Formats.SNAPSHOTS).forEach(o -> inSource.add(Formats.idOf(o.name())));
            for (Map.Entry<String, Manifest> c : copiesThere.entrySet()) {
                if (inSource.contains(c.getKey())) {
                    for (Manifest.StreamEntry ss : source.manifest(c.getKey()).streams()) {
                        sameContent(streamsThere, ss, c.getValue().stream(ss.name()));
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
                        Manifest.StreamEntry there = streamsThere.get(contentKey(s));
                        if (there != null) {
                            // same content already stored at the destination: reuse its blob lists, read nothing
                            entries.add(Manifest.StreamEntry.of(s.name(), s.size(), there.sha256(), there.count(), there.lists(),
                                    there.digest()));
                            reused++;
                            continue;
                        }
                        // written under the destination's rules (its chunker, its format version's hashing)
                        StreamWriter out = new StreamWriter(s.name(), destination.chunker(), w, destination.hashesChunksOnce(),
                                read::addAndGet);
                        try (InputStream in = reader.openStream(s.name())) {
                            in.transferTo(out);
                            out.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException("copying stream " + s.name() + " of snapshot " + id.substring(0, 8), e);
                        }
                        Manifest.StreamEntry e = out.entry();
                        // the reader checked what it read against the source's size and digest at the end of
                        // the stream; a digest over chunks depends on where each repository cuts, so the two
                        // digests are compared only when both are over the whole plaintext
                        boolean comparable = e.digest() == null && s.digest() == null;
                        if (e.size() != s.size() || comparable && !e.sha256().equals(s.sha256())) {
                            throw new IntegrityException(Formats.SNAPSHOTS + id, "stream " + s.name() + " copied as " + e.size()
                                    + " bytes with another SHA-256 than the source recorded; nothing was committed");
                        }
                        entries.add(e);
                        streamsThere.putIfAbsent(contentKey(e), e);
                        sameContent(streamsThere, s, e);
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

    /** Records that the destination's {@code there} holds the content the source recorded as {@code source}. */
    private static void sameContent(Map<String, Manifest.StreamEntry> streamsThere, Manifest.StreamEntry source,
                                    Manifest.StreamEntry there) {
        if (there != null && there.blobs() == null && there.size() == source.size()) {
            streamsThere.putIfAbsent(contentKey(source), there);
        }
    }

    /**
     * Size, digest kind and digest: equal keys mean equal content, also across repositories that cut
     * differently (equal digests over chunk digests mean equal chunks, in order).
     */
    private static String contentKey(Manifest.StreamEntry s) {
        return s.size() + "/" + (s.digest() == null ? "sha256" : s.digest()) + "/" + s.sha256();
    }
}
