package io.backupkit.core;

import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.SnapshotStream;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Kdf;
import io.backupkit.internal.repo.BlobReader;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Format version 2 (docs/repository-format.md, "each byte hashed once"), checked from outside the
 * pipeline: the ids and the stream digest a backup records are recomputed here from the data with the
 * reference chunker and the documented derivation, and a restore enforces the stream digest.
 */
class HashOnceFormatTest {
    private static final byte[] KDF_SALT = "backupkit repository v1".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private static byte[] data() throws IOException {
        try (InputStream in = DumpLikeData.stream(21, 700_000)) {
            return in.readAllBytes();
        }
    }

    private static List<byte[]> chunkDigests(FastCdcChunker chunker, byte[] data) {
        List<byte[]> out = new ArrayList<>();
        for (int off = 0; off < data.length; ) {
            int n = chunker.cut(data, off, data.length - off);
            out.add(Hashes.sha256(data, off, n));
            off += n;
        }
        return out;
    }

    private static String overChunks(List<byte[]> digests) {
        MessageDigest md = Hashes.sha256();
        digests.forEach(md::update);
        return Hashes.hex(md.digest());
    }

    /** The data blob ids of a stream, read through its list blobs (manifest version 2). */
    private static List<String> blobIds(DefaultRepository d, Manifest.StreamEntry e) {
        List<String> out = new ArrayList<>();
        BlobReader.StreamIds it = new BlobReader(d, d.locationIndex()).ids(e, "test");
        while (it.hasNext()) {
            out.add(it.next().hex());
        }
        return out;
    }

    private static DefaultRepository.RepositoryBuilder small(Path location) {
        DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repository.builder().storage(LocalStorage.of(location));
        b.chunkerSeed(5);
        b.chunkSizes(4096, 16384, 65536);
        return b;
    }

    @Test
    void newEncryptedRepository_namesBlobsByHmacOfTheirSha256_andDigestsStreamsOverTheirChunks() throws IOException {
        byte[] data = data();
        Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
        DefaultRepository.RepositoryBuilder b = small(dir);
        b.keyProvider(key);
        try (Repository repo = b.create()) {
            DefaultRepository d = (DefaultRepository) repo;
            assertEquals(2, d.config().version(), "a new repository is format version 2");
            BackupResult r = Repos.backup(repo, new GeneratedSource().stream("t", () -> new ByteArrayInputStream(data)));
            Manifest.StreamEntry e = d.manifest(r.snapshotId()).stream("t");

            List<byte[]> digests = chunkDigests(d.chunker(), data);
            Mac mac = Hashes.hmac(Kdf.hkdf(key.master, KDF_SALT, "backupkit v2 blob id", 32));
            List<String> ids = digests.stream().map(x -> Hashes.hex(mac.doFinal(x))).toList();
            assertTrue(ids.size() > 20, "enough chunks to mean something: " + ids.size());
            assertEquals(ids, blobIds(d, e), "blob id = HMAC-SHA256(blob-id key v2, SHA-256(chunk))");
            assertEquals(Manifest.StreamEntry.DIGEST_CHUNKS, e.digest());
            assertEquals(overChunks(digests), e.sha256(), "stream digest = SHA-256 over the chunks' SHA-256, in order");
            assertEquals(data.length, e.size());
            assertEquals(Hashes.sha256Hex(data), Repos.restore(repo, r.snapshotId()).digests().get("t"));
            // the public record says which digest it carries, so nobody compares it with sha256sum
            SnapshotStream st = repo.snapshots().get(r.snapshotId()).streams().get(0);
            assertEquals(SnapshotStream.SHA256_CHUNKS, st.digest());
            assertFalse(st.isPlainSha256());
            assertEquals(overChunks(digests), st.sha256());
            assertNotEquals(Hashes.sha256Hex(data), st.sha256());
        }
    }

    @Test
    void newUnencryptedRepository_namesBlobsBySha256() throws IOException {
        byte[] data = data();
        DefaultRepository.RepositoryBuilder b = small(dir);
        b.unencrypted();
        try (Repository repo = b.create()) {
            DefaultRepository d = (DefaultRepository) repo;
            BackupResult r = Repos.backup(repo, new GeneratedSource().stream("t", () -> new ByteArrayInputStream(data)));
            Manifest.StreamEntry e = d.manifest(r.snapshotId()).stream("t");
            List<byte[]> digests = chunkDigests(d.chunker(), data);
            assertEquals(digests.stream().map(Hashes::hex).toList(), blobIds(d, e));
            assertEquals(overChunks(digests), e.sha256());
            assertEquals(Hashes.sha256Hex(data), Repos.restore(repo, r.snapshotId()).digests().get("t"));
        }
    }

    /**
     * Two blob ids swapped in an authentic manifest: every blob still opens and matches its id, so only
     * the stream digest can tell, and the restore must fail instead of writing the chunks out of order.
     */
    @Test
    void chunksOutOfOrder_failTheRestore_onTheStreamDigest() throws IOException {
        byte[] data = data();
        Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
        DefaultRepository.RepositoryBuilder b = small(dir);
        b.keyProvider(key);
        String forged;
        try (Repository repo = b.create()) {
            BackupResult r = Repos.backup(repo, new GeneratedSource().stream("t", () -> new ByteArrayInputStream(data)));
            Manifest m = ((DefaultRepository) repo).manifest(r.snapshotId());
            Manifest.StreamEntry e = m.stream("t");
            List<String> swapped = blobIds((DefaultRepository) repo, e);
            java.util.Collections.swap(swapped, 3, 4);
            // a version 1 manifest lists the ids inline: the simplest authentic place to swap two of them
            Manifest.StreamEntry bad = new Manifest.StreamEntry(e.name(), e.size(), e.sha256(), swapped, 0, null, e.digest());
            Manifest mm = new Manifest(1, m.time(), m.hostname(), m.engine(), m.source(), m.tags(), List.of(bad),
                    m.metadata(), m.bytesRead(), m.bytesStored(), m.durationMillis(), null);
            forged = Formats.idOf(Forge.writeAddressed(dir, Formats.SNAPSHOTS, mm.encode(key.sealer())));
        }
        try (Repository repo = small(dir).keyProvider(key).open()) {
            IntegrityException x = assertThrows(IntegrityException.class, () -> Repos.restore(repo, forged));
            assertTrue(x.getMessage().contains("stream t") && x.getMessage().contains("chunk digest"), x.getMessage());
        }
    }

    @Test
    void aStreamDigestOfAnUnknownKind_asksForANewerBackupkit() throws IOException {
        Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
        DefaultRepository.RepositoryBuilder b = small(dir);
        b.keyProvider(key);
        String forged;
        try (Repository repo = b.create()) {
            BackupResult r = Repos.backup(repo, new GeneratedSource().stream("t", () -> new ByteArrayInputStream(new byte[1000])));
            Manifest m = ((DefaultRepository) repo).manifest(r.snapshotId());
            Manifest.StreamEntry e = m.stream("t");
            Manifest.StreamEntry other = new Manifest.StreamEntry(e.name(), e.size(), e.sha256(), e.blobs(), e.blobCount(),
                    e.blobLists(), "blake3-tree");
            Manifest mm = new Manifest(m.version(), m.time(), m.hostname(), m.engine(), m.source(), m.tags(), List.of(other),
                    m.metadata(), m.bytesRead(), m.bytesStored(), m.durationMillis(), null);
            forged = Forge.writeAddressed(dir, Formats.SNAPSHOTS, mm.encode(key.sealer()));
        }
        try (Repository repo = small(dir).keyProvider(key).open()) {
            ConfigurationException x = assertThrows(ConfigurationException.class, () -> ((DefaultRepository) repo).manifest(Formats.idOf(forged)));
            assertTrue(x.getMessage().contains("blake3-tree") && x.getMessage().contains("upgrade"), x.getMessage());
        }
    }
}
