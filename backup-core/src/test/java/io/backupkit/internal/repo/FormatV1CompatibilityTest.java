package io.backupkit.internal.repo;

import io.backupkit.BackupManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.RestoreManager;
import io.backupkit.Repository;
import io.backupkit.internal.Json;
import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Repositories written by the first release (index objects "BKI1", manifests version 1 with every blob
 * id inline) are still read: restore, verification and check work on them, and new backups into them
 * deduplicate against their blobs.
 */
class FormatV1CompatibilityTest {
    @TempDir
    Path dir;

    /** Rewrites every index and manifest of the repository in the version 1 layout. */
    private static void downgrade(DefaultRepository repo) throws Exception {
        var storage = repo.storage();
        for (ObjectInfo o : storage.list(Formats.INDEX)) {
            List<PackEntry> packs = IndexFile.decode(o.name(), storage.readAll(o.name()), repo.sealer());
            byte[] plain = v1Index(packs);
            byte[] stored = repo.sealer().seal(plain, Formats.AD_INDEX);
            storage.putIfAbsent(Formats.INDEX + Hashes.sha256Hex(stored), Payload.of(stored));
            storage.delete(o.name());
        }
        BlobIndex index = BlobIndex.load(storage, repo.sealer(), true);
        BlobReader reader = new BlobReader(repo, index);
        for (ObjectInfo o : storage.list(Formats.SNAPSHOTS)) {
            Manifest m = Manifest.decode(o.name(), storage.readAll(o.name()), repo.sealer());
            List<Manifest.StreamEntry> streams = new ArrayList<>();
            for (Manifest.StreamEntry s : m.streams()) {
                List<String> ids = new ArrayList<>();
                BlobReader.StreamIds it = reader.ids(s, o.name());
                while (it.hasNext()) {
                    ids.add(it.next().hex());
                }
                streams.add(new Manifest.StreamEntry(s.name(), s.size(), s.sha256(), ids, 0, null, s.digest()));
            }
            Manifest v1 = new Manifest(1, m.time(), m.hostname(), m.engine(), m.source(), m.tags(), streams, m.metadata(),
                    m.bytesRead(), m.bytesStored(), m.durationMillis(), null);
            byte[] json = Json.MAPPER.writeValueAsBytes(v1);
            byte[] z = BuiltinCodecs.ZSTD.compress(json, 0, json.length);
            byte[] plain = new byte[5 + z.length];
            Formats.putInt(plain, 0, json.length);
            plain[4] = (byte) BuiltinCodecs.ZSTD.id();
            System.arraycopy(z, 0, plain, 5, z.length);
            byte[] stored = repo.sealer().seal(plain, Formats.AD_SNAPSHOT);
            storage.putIfAbsent(Manifest.nameOf(stored), Payload.of(stored));
            storage.delete(o.name());
        }
    }

    private static byte[] v1Index(List<PackEntry> packs) {
        int size = 8;
        for (PackEntry p : packs) {
            size += 2 + p.pack().length() + 12 + p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        byte[] out = new byte[size];
        System.arraycopy(Formats.INDEX_MAGIC, 0, out, 0, 4);
        Formats.putInt(out, 4, packs.size());
        int off = 8;
        for (PackEntry p : packs) {
            byte[] n = p.pack().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            out[off] = (byte) (n.length >>> 8);
            out[off + 1] = (byte) n.length;
            System.arraycopy(n, 0, out, off + 2, n.length);
            off += 2 + n.length;
            Formats.putLong(out, off, p.size());
            Formats.putInt(out, off + 8, p.blobs().size());
            off += 12;
            PackEntry.writeEntries(p.blobs(), out, off);
            off += p.blobs().size() * PackEntry.ENTRY_BYTES;
        }
        return out;
    }

    @Test
    void versionOneRepository_restoresChecksAndDeduplicates() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        LocalStorage disk = LocalStorage.of(dir.resolve("repo"));
        GeneratedSource source = new GeneratedSource().stream("t", () -> DumpLikeData.stream(5, 6L * 1024 * 1024));
        try (Repository repo = Repository.builder().storage(disk).keyProvider(KeyProviders.keyFile(keyFile)).create()) {
            BackupManager.builder().repository(repo).parallelism(2).source(source).build().backup();
            downgrade((DefaultRepository) repo);
        }
        try (Repository repo = Repository.builder().storage(disk).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
            assertEquals(1, repo.snapshots().list().size());
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            DigestTarget t = new DigestTarget();
            RestoreManager.builder().repository(repo).snapshot("latest").target(t).build().restore();
            assertEquals(DigestTarget.digestOf(DumpLikeData.stream(5, 6L * 1024 * 1024)).getKey(), t.digests().get("t"));
            long stored = BackupManager.builder().repository(repo).parallelism(2).source(source).build().backup().bytesStored();
            assertTrue(stored < 64 * 1024, "a second backup reuses the version 1 blobs, stored " + stored);
            assertTrue(repo.check().ok(), repo.check().errors().toString());
        }
    }
}
