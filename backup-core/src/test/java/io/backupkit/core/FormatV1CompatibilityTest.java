package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Repositories written by an older backupkit (format version 1, {@code src/test/resources/format-v1},
 * see its README) stay readable and writable: every stream restores byte for byte, verification
 * passes, and a new backup into such a repository keeps that repository's rules (blob ids of the
 * plaintext, whole-stream SHA-256), so it deduplicates against the blobs already there.
 */
class FormatV1CompatibilityTest {
    private static final Path FIXTURE = Path.of("src", "test", "resources", "format-v1");
    private static final String FIRST_ENCRYPTED = "878913bcce5c97a9057396a586e14347cc2751b63787e508c0d86a561c73affc";
    private static final String SECOND_ENCRYPTED = "f65c778d89c332d4be0f5030f04ec5205115719fd53ab77eab04c44401108068";
    private static final String FIRST_UNENCRYPTED = "2c6330b8101e2fa855925c6a01e0a866158a2dc7ffe9b458d4ae59ec8408cd51";
    private static final Map<String, String> FIRST = Map.of(
            "table", "8c8f20c58affbe599ebd35ba0b6ada826f17c6b24089e043e6f47c242a612caf",
            "small", "78a592d7cfaf83ffaf7894bc8fb1cb266f3dec054491ec395617e55566684f4b",
            "empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    private static final Map<String, String> SECOND = Map.of(
            "table", "84412e6b6175621d3a2bcda6ebc71ac64ffe1b5ce4d9fef811baa29729ab03e4");

    @TempDir
    Path dir;

    private Path copy(String which) throws IOException {
        return copyFixture(which, dir.resolve(which));
    }

    /** A writable copy of the format-1 fixture {@code which} ("encrypted" or "unencrypted") at {@code dst}. */
    static Path copyFixture(String which, Path dst) throws IOException {
        Path src = FIXTURE.resolve(which);
        try (Stream<Path> all = Files.walk(src)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return dst;
    }

    private Repository open(String which) throws IOException {
        return open(which, copy(which));
    }

    private static Repository open(String which, Path location) {
        Repository.Builder b = Repository.builder().storage(LocalStorage.of(location));
        return which.equals("encrypted") ? b.keyFile(FIXTURE.resolve("key.bin")).open() : b.open();
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypted", "unencrypted"})
    void everyStreamOfAVersion1Snapshot_restoresByteForByte(String which) throws IOException {
        try (Repository repo = open(which)) {
            assertEquals(1, ((DefaultRepository) repo).config().version(), "the fixture is format version 1");
            String first = which.equals("encrypted") ? FIRST_ENCRYPTED : FIRST_UNENCRYPTED;
            DigestTarget restored = Repos.restore(repo, first);
            assertEquals(FIRST, restored.digests());
            if (which.equals("encrypted")) {
                assertEquals(SECOND, Repos.restore(repo, SECOND_ENCRYPTED).digests());
            }
        }
    }

    /** A format 1 stream's digest says it is the plain SHA-256, and it is: sha256sum of the restored bytes. */
    @ParameterizedTest
    @ValueSource(strings = {"encrypted", "unencrypted"})
    void version1Streams_reportThePlainSha256_whichIsTheRestoredBytesSha256(String which) throws IOException {
        try (Repository repo = open(which)) {
            for (Snapshot s : repo.snapshots().list()) {
                Map<String, String> restored = Repos.restore(repo, s.id()).digests();
                for (SnapshotStream st : s.streams()) {
                    assertEquals(SnapshotStream.SHA256, st.digest(), s.shortId() + " " + st.name());
                    assertTrue(st.isPlainSha256());
                    assertEquals(restored.get(st.name()), st.sha256(), s.shortId() + " " + st.name());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"encrypted", "unencrypted"})
    void version1Snapshots_passStandardVerification(String which) throws IOException {
        try (Repository repo = open(which)) {
            for (Snapshot s : repo.snapshots().list()) {
                VerificationReport report = Verifier.builder().repository(repo).snapshot(s.id())
                        .level(VerificationLevel.STANDARD).build().verify();
                assertTrue(report.passed(), s.shortId() + ": " + report.failures());
            }
        }
    }

    /** What a user sees after upgrading: the next backup of unchanged data stores no new data blob. */
    @ParameterizedTest
    @ValueSource(strings = {"encrypted", "unencrypted"})
    void backupIntoAVersion1Repository_keepsItsRules_andDeduplicatesAgainstItsBlobs(String which) throws IOException {
        Path location = copy(which);
        try (Repository repo = open(which, location)) {
            String first = which.equals("encrypted") ? FIRST_ENCRYPTED : FIRST_UNENCRYPTED;
            Map<String, byte[]> content = readAll(repo, first);
            GeneratedSource again = new GeneratedSource();
            content.forEach((name, bytes) -> again.stream(name, () -> new ByteArrayInputStream(bytes)));
            BackupResult result = BackupManager.builder().repository(repo).source(again).parallelism(2).build().backup();
            result.streams().forEach(s -> assertEquals(0, s.newBlobs(), "stream " + s.name() + " stored new blobs"));
            for (SnapshotStream s : result.snapshot().streams()) {
                assertEquals(FIRST.get(s.name()), s.sha256(), "a version 1 repository records the whole stream's SHA-256");
            }
            assertEquals(1, ((DefaultRepository) repo).config().version());
            assertEquals(FIRST, Repos.restore(repo, result.snapshotId()).digests());
        }
        // the config object itself is untouched
        try (Repository repo = open(which, location)) {
            assertEquals(1, ((DefaultRepository) repo).config().version());
        }
    }

    @Test
    void theFixtureIsComplete() throws IOException {
        for (String which : List.of("encrypted", "unencrypted")) {
            assertTrue(Files.isRegularFile(FIXTURE.resolve(which).resolve(Formats.CONFIG)), which + "/config");
        }
    }

    static Map<String, byte[]> readAll(Repository repo, String snapshot) {
        Map<String, byte[]> out = new HashMap<>();
        io.backupkit.RestoreManager.builder().repository(repo).snapshot(snapshot).target(new CollectingTarget(out))
                .parallelism(2).build().restore();
        return out;
    }

    /** Keeps every restored stream in memory (the fixture's streams are small). */
    private record CollectingTarget(Map<String, byte[]> out) implements io.backupkit.spi.RestoreTarget {
        @Override
        public String engine() {
            return GeneratedSource.ENGINE;
        }

        @Override
        public String describe() {
            return "memory";
        }

        @Override
        public io.backupkit.RestorePlan plan(io.backupkit.spi.RestoreContext context) {
            return new io.backupkit.RestorePlan(describe(), List.of(), 0);
        }

        @Override
        public void restore(io.backupkit.spi.RestoreContext context) {
            for (SnapshotStream s : context.snapshot().streams()) {
                try (InputStream in = context.openStream(s.name())) {
                    out.put(s.name(), in.readAllBytes());
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }

        @Override
        public List<io.backupkit.VerificationCheck> verifyByRestore(io.backupkit.spi.RestoreContext context) {
            restore(context);
            return List.of();
        }
    }
}
