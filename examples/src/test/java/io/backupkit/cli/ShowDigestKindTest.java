package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code show} says which kind of digest each stream carries: a script comparing {@code .streams[].sha256}
 * with {@code sha256sum} of a restored stream must be able to tell that it only may where
 * {@code .streams[].digest} is {@code "sha256"} (format 1), not {@code "sha256-chunks"} (format 2).
 */
class ShowDigestKindTest {
    /** The format 1 repositories core's FormatV1CompatibilityTest reads (see their README). */
    private static final Path V1 = Path.of("..", "backup-core", "src", "test", "resources", "format-v1", "unencrypted");
    private static final String V1_SNAPSHOT = "2c6330b8101e2fa855925c6a01e0a866158a2dc7ffe9b458d4ae59ec8408cd51";

    @TempDir
    Path dir;

    private static Map<String, String> restoredSha256(Path repo, String snapshot) {
        DigestTarget target = new DigestTarget();
        try (Repository r = Repository.builder().location(repo.toString()).open()) {
            RestoreManager.builder().repository(r).snapshot(snapshot).target(target).parallelism(2).build().restore();
        }
        return target.digests();
    }

    @Test
    void formatVersion1_showsThePlainSha256_equalToSha256sumOfTheRestoredStream() throws IOException {
        Path repo = dir.resolve("v1");
        try (Stream<Path> all = Files.walk(V1)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path t = repo.resolve(V1.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        Map<String, String> restored = restoredSha256(repo, V1_SNAPSHOT);
        JsonOutputTest.Run json = JsonOutputTest.run("show", "--repo", repo.toString(), V1_SNAPSHOT, "--json");
        assertEquals(0, json.code(), json.toString());
        JsonNode streams = json.onlyDocument().path("snapshot").path("streams");
        assertEquals(3, streams.size(), streams.toString());
        for (JsonNode s : streams) {
            assertEquals("sha256", s.path("digest").asText(), s.toString());
            assertEquals(restored.get(s.path("name").asText()), s.path("sha256").asText(), s.toString());
        }

        JsonOutputTest.Run text = JsonOutputTest.run("show", "--repo", repo.toString(), V1_SNAPSHOT);
        assertEquals(0, text.code(), text.toString());
        assertTrue(text.stdout().matches("(?s).*STREAM +SIZE +BLOBS +SHA-256\n.*"), text.stdout());
        assertFalse(text.stdout().contains("chunks"), text.stdout());
    }

    @Test
    void formatVersion2_showsTheDigestOverChunks_labelledSo() throws IOException {
        Path repo = dir.resolve("v2");
        String id;
        try (Repository r = Repository.builder().location(repo.toString()).unencrypted().create()) {
            id = BackupManager.builder().repository(r).parallelism(2).source(new GeneratedSource()
                    .stream("table", () -> DumpLikeData.stream(3, 500_000))).build().backup().snapshotId();
        }
        Map<String, String> restored = restoredSha256(repo, id);
        JsonOutputTest.Run json = JsonOutputTest.run("show", "--repo", repo.toString(), id, "--json");
        assertEquals(0, json.code(), json.toString());
        JsonNode s = json.onlyDocument().path("snapshot").path("streams").get(0);
        assertEquals("sha256-chunks", s.path("digest").asText(), s.toString());
        assertTrue(s.path("sha256").asText().matches("[0-9a-f]{64}"), s.toString());
        assertNotEquals(restored.get("table"), s.path("sha256").asText(), "a digest over chunks is not sha256sum of the stream");

        JsonOutputTest.Run text = JsonOutputTest.run("show", "--repo", repo.toString(), id);
        assertEquals(0, text.code(), text.toString());
        assertTrue(text.stdout().matches("(?s).*STREAM +SIZE +BLOBS +SHA-256 \\(chunks\\)\n.*"), text.stdout());
        assertTrue(text.stdout().contains(s.path("sha256").asText()), text.stdout());
        assertTrue(text.stdout().contains("not sha256sum of the stream"), text.stdout());
    }
}
