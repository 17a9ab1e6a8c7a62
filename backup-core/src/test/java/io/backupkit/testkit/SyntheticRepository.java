package io.backupkit.testkit;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLists;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.Payload;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a large, valid repository quickly: real sealed blobs, packs with trailers, index objects, blob
 * lists and version 2 manifests, written through the repository's own format classes instead of the
 * backup pipeline (10 million blobs take minutes, not hours). Every snapshot restores and verifies.
 *
 * <p>The shape models a database backed up daily for {@code snapshots} days: an append-only part that
 * grows by {@code appendPerSnapshot} blobs a day (every snapshot references all of it so far) and a hot
 * part of {@code hotPerSnapshot} blobs that each day replaces (only its own snapshot references it).
 * Forgetting old snapshots therefore frees their hot blobs. Blobs hold {@code blobBytes} bytes.
 */
public final class SyntheticRepository {
    /** The size of the repository to write. */
    public record Shape(int snapshots, int appendPerSnapshot, int hotPerSnapshot, int blobBytes) {
        public long blobs() {
            return (long) snapshots * (appendPerSnapshot + hotPerSnapshot);
        }
    }

    private final DefaultRepository repo;
    private final Shape shape;
    private final List<PackEntry> unindexed = new ArrayList<>();
    private long unindexedBlobs;

    private SyntheticRepository(DefaultRepository repo, Shape shape) {
        this.repo = repo;
        this.shape = shape;
    }

    /** Creates the repository in {@code dir} (key file {@code keyFile}) and fills it. */
    public static void generate(Path dir, Path keyFile, Shape shape, PrintStream log) {
        try (Repository r = Repository.builder().storage(LocalStorage.of(dir)).keyProvider(KeyProviders.keyFile(keyFile)).create()) {
            new SyntheticRepository((DefaultRepository) r, shape).fill(log);
        }
    }

    private byte[] plain(long kind, long i) {
        byte[] b = new byte[shape.blobBytes()];
        ByteBuffer bb = ByteBuffer.wrap(b);
        bb.putLong(kind);
        bb.putLong(i);
        long x = i * 0x9E3779B97F4A7C15L + kind;
        while (bb.remaining() >= 8) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            bb.putLong(x);
        }
        return b;
    }

    /** One pack of blobs. */
    private final class Pack {
        final PackWriter writer = new PackWriter(4 * 1024 * 1024);

        BlobId add(byte[] plain) {
            BlobId id = repo.blobId(plain, 0, plain.length);
            byte[] payload = new byte[plain.length + 1];
            System.arraycopy(plain, 0, payload, 1, plain.length);
            writer.add(id, repo.sealer().seal(payload, 0, payload.length, id.bytes()), plain.length);
            return id;
        }

        void store() {
            if (writer.blobCount() == 0) {
                return;
            }
            PackWriter.Finished f = writer.finish(repo.sealer());
            repo.storage().putIfAbsent(f.entry().pack(), Payload.of(f.bytes(), 0, f.length()));
            unindexed.add(f.entry());
            unindexedBlobs += f.entry().blobs().size();
            if (unindexedBlobs >= 150_000) {
                flushIndex();
            }
        }
    }

    private void flushIndex() {
        if (!unindexed.isEmpty()) {
            repo.writeIndex(IndexFile.BACKUP, List.of(), List.copyOf(unindexed));
            unindexed.clear();
            unindexedBlobs = 0;
        }
    }

    /** Blob list plaintext of {@code ids[from, to)}. */
    private static byte[] list(List<BlobId> ids, int from, int to) {
        BlobLists.Builder b = new BlobLists.Builder();
        for (int i = from; i < to; i++) {
            b.add(ids.get(i));
        }
        return b.take();
    }

    private void fill(PrintStream log) {
        long t0 = System.nanoTime();
        MessageDigest appendSha = Hashes.sha256();
        List<String> appendLists = new ArrayList<>();
        // ids of the append part not yet in a closed list (the open tail)
        List<BlobId> tail = new ArrayList<>();
        long appendBlobs = 0;
        Instant day0 = Instant.parse("2024-01-01T02:00:00Z");
        for (int k = 0; k < shape.snapshots(); k++) {
            Pack data = new Pack();
            Pack lists = new Pack();
            for (int i = 0; i < shape.appendPerSnapshot(); i++) {
                byte[] p = plain(1, appendBlobs++);
                appendSha.update(p);
                BlobId id = data.add(p);
                tail.add(id);
                if (BlobLists.endsAfter(id, tail.size())) {
                    appendLists.add(lists.add(list(tail, 0, tail.size())).hex());
                    tail.clear();
                }
            }
            List<String> appendStream = new ArrayList<>(appendLists);
            if (!tail.isEmpty()) {
                appendStream.add(lists.add(list(tail, 0, tail.size())).hex());
            }
            MessageDigest hotSha = Hashes.sha256();
            List<BlobId> hot = new ArrayList<>();
            for (int i = 0; i < shape.hotPerSnapshot(); i++) {
                byte[] p = plain(2, (long) k * shape.hotPerSnapshot() + i);
                hotSha.update(p);
                hot.add(data.add(p));
            }
            List<String> hotStream = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < hot.size(); i++) {
                if (BlobLists.endsAfter(hot.get(i), i - start + 1) || i == hot.size() - 1) {
                    hotStream.add(lists.add(list(hot, start, i + 1)).hex());
                    start = i + 1;
                }
            }
            data.store();
            lists.store();
            String appendHex;
            try {
                appendHex = Hashes.hex(((MessageDigest) appendSha.clone()).digest());
            } catch (CloneNotSupportedException e) {
                throw new IllegalStateException(e);
            }
            long appendSize = appendBlobs * shape.blobBytes();
            long hotSize = (long) hot.size() * shape.blobBytes();
            List<Manifest.StreamEntry> streams = List.of(
                    Manifest.StreamEntry.of("append", appendSize, appendHex, appendBlobs, appendStream),
                    Manifest.StreamEntry.of("hot", hotSize, Hashes.hex(hotSha.digest()), hot.size(), hotStream));
            Instant time = day0.plus(Duration.ofDays(k));
            repo.writeManifest(new Manifest(Manifest.VERSION, time, "synthetic-host", GeneratedSource.ENGINE, "synthetic database",
                    Map.of("day", Integer.toString(k)), streams, Map.of("streams", List.of("append", "hot")), appendSize + hotSize,
                    0, 0, null));
            if ((k + 1) % 100 == 0 || k + 1 == shape.snapshots()) {
                log.printf("generated %d of %d snapshots, %d blobs, %.0f s%n", k + 1, shape.snapshots(),
                        appendBlobs + (long) (k + 1) * shape.hotPerSnapshot(), (System.nanoTime() - t0) / 1e9);
                log.flush();
            }
        }
        flushIndex();
    }
}
