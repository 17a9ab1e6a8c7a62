package io.backupkit.core;

import io.backupkit.CopyResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotCopier;
import io.backupkit.SnapshotStream;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code copy} between a format 1 repository (a copy of the {@code format-v1} fixture, see its README) and a
 * format 2 one, both ways. The two record different kinds of stream digest, so a stream's content is known
 * at the destination only by what an earlier copy established; these tests check that each copy restores
 * to the source's bytes, records the destination's own kind of digest, is skipped the second time, and
 * that a stream whose content the destination already holds is reused without being read.
 */
class CrossFormatCopyTest {
    private static final Path FIXTURE = Path.of("src", "test", "resources", "format-v1");
    private static final String FIRST_ENCRYPTED = "878913bcce5c97a9057396a586e14347cc2751b63787e508c0d86a561c73affc";
    private static final String SECOND_ENCRYPTED = "f65c778d89c332d4be0f5030f04ec5205115719fd53ab77eab04c44401108068";
    private static final String FIRST_UNENCRYPTED = "2c6330b8101e2fa855925c6a01e0a866158a2dc7ffe9b458d4ae59ec8408cd51";

    @TempDir
    Path dir;

    /** A format 1 repository: a copy of the fixture (this backupkit creates only format 2). */
    private Repository openVersion1(String which) throws IOException {
        Path dst = FormatV1CompatibilityTest.copyFixture(which, dir.resolve("v1-" + which));
        Repository.Builder b = Repository.builder().storage(LocalStorage.of(dst));
        Repository repo = which.equals("encrypted") ? b.keyFile(FIXTURE.resolve("key.bin")).open() : b.open();
        assertEquals(1, ((DefaultRepository) repo).config().version());
        return repo;
    }

    private Repository createVersion2(String name) {
        Repository repo = Repository.builder().storage(LocalStorage.of(dir.resolve(name)))
                .keyProvider(KeyProviders.keyFile(KeyProviders.generateKeyFile(dir.resolve(name + ".key"))))
                .chunkSizes(4096, 16384, 65536).packSize(1024 * 1024).create();
        assertEquals(2, ((DefaultRepository) repo).config().version());
        return repo;
    }

    private static String backup(Repository repo, Map<String, byte[]> content) {
        GeneratedSource source = new GeneratedSource();
        content.forEach((name, bytes) -> source.stream(name, () -> new ByteArrayInputStream(bytes)));
        return Repos.backup(repo, source).snapshotId();
    }

    private static CopyResult copy(Repository from, Repository to) {
        return SnapshotCopier.builder().source(from).destination(to).parallelism(2).build().copy();
    }

    /** Every copied snapshot restores to its source's bytes and records digests of {@code kind}. */
    private static void assertCopiesRestoreTheSame(Repository from, Repository to, CopyResult r, String kind) {
        for (CopyResult.Copied c : r.copied()) {
            Map<String, String> source = Repos.restore(from, c.sourceId()).digests();
            assertEquals(source, Repos.restore(to, c.destinationId()).digests(), c.toString());
            Snapshot copy = to.snapshots().get(c.destinationId());
            assertEquals(source.keySet(), Set.copyOf(copy.streams().stream().map(SnapshotStream::name).toList()));
            for (SnapshotStream s : copy.streams()) {
                assertEquals(kind, s.digest(), c + " " + s.name());
                if (s.isPlainSha256()) {
                    assertEquals(source.get(s.name()), s.sha256(), "a format 1 copy records sha256sum of " + s.name());
                }
            }
        }
        assertTrue(to.check().ok(), to.check().errors().toString());
    }

    @Test
    void version1ToVersion2_restoresTheSame_skipsWhatIsThere_andReusesStreamsOfEarlierCopies() throws IOException {
        try (Repository v1 = openVersion1("encrypted"); Repository v2 = createVersion2("v2")) {
            Map<String, byte[]> first = FormatV1CompatibilityTest.readAll(v1, FIRST_ENCRYPTED);
            // a third format 1 snapshot with the first one's content (same plain SHA-256 per stream)
            String third = backup(v1, first);

            CopyResult r = copy(v1, v2);
            assertEquals(3, r.copied().size(), r.toString());
            assertEquals(3, r.streamsReused(), "the first and third snapshots share all three streams: " + r);
            assertCopiesRestoreTheSame(v1, v2, r, SnapshotStream.SHA256_CHUNKS);

            CopyResult again = copy(v1, v2);
            assertEquals(0, again.copied().size(), again.toString());
            assertEquals(Set.of(FIRST_ENCRYPTED, SECOND_ENCRYPTED, third), Set.copyOf(again.skipped()));

            // a later format 1 snapshot of content copied in the earlier run: known there only through that copy
            String fourth = backup(v1, Map.of("table", FormatV1CompatibilityTest.readAll(v1, SECOND_ENCRYPTED).get("table"),
                    "small", first.get("small")));
            CopyResult later = copy(v1, v2);
            assertEquals(List.of(fourth), later.copied().stream().map(CopyResult.Copied::sourceId).toList());
            assertEquals(2, later.streamsReused(), later.toString());
            assertEquals(0, later.bytesRead(), "reused streams are not read from the source: " + later);
            assertCopiesRestoreTheSame(v1, v2, later, SnapshotStream.SHA256_CHUNKS);
        }
    }

    @Test
    void version2ToVersion1_restoresTheSame_keepsTheDestinationsRules_andReusesStreams() throws IOException {
        try (Repository v2 = createVersion2("v2"); Repository v1 = openVersion1("unencrypted")) {
            Map<String, byte[]> content = FormatV1CompatibilityTest.readAll(v1, FIRST_UNENCRYPTED);
            String a = backup(v2, content);
            String b = backup(v2, content);

            CopyResult r = copy(v2, v1);
            assertEquals(2, r.copied().size(), r.toString());
            assertEquals(3, r.streamsReused(), "the second snapshot's streams are the first's: " + r);
            assertCopiesRestoreTheSame(v2, v1, r, SnapshotStream.SHA256);
            // the fixture holds every data chunk already (its chunker cuts as it did then); only the blob lists
            // (its manifests are version 1, with ids inline), an index and two manifests are new
            assertTrue(r.bytesWritten() < 16 * 1024, "no data chunk uploaded again: " + r);
            assertEquals(1, ((DefaultRepository) v1).config().version(), "the destination keeps format 1");

            CopyResult again = copy(v2, v1);
            assertEquals(0, again.copied().size(), again.toString());
            assertEquals(Set.of(a, b), Set.copyOf(again.skipped()));

            String c = backup(v2, content);
            CopyResult later = copy(v2, v1);
            assertEquals(List.of(c), later.copied().stream().map(CopyResult.Copied::sourceId).toList());
            assertEquals(3, later.streamsReused(), later.toString());
            assertEquals(0, later.bytesRead(), "reused streams are not read from the source: " + later);
            assertCopiesRestoreTheSame(v2, v1, later, SnapshotStream.SHA256);
        }
    }
}
