package io.backupkit.core;

import io.backupkit.BackupResult;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A 512 MiB stream round-trips byte for byte (default codec; encrypted and unencrypted). */
class LargeStreamIT {
    private static final long SIZE = 512L * 1024 * 1024 + 4099;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} encrypted={1}")
    @CsvSource({"zstd, true", "lz4, false"})
    void halfGibibyteStream_roundTrips(String codec, boolean encrypted) throws Exception {
        Repository.Builder b = encrypted ? Repos.encrypted(LocalStorage.of(dir)) : Repository.builder().storage(LocalStorage.of(dir)).unencrypted();
        try (Repository repo = b.compression(codec).create()) {
            BackupResult r = Repos.backup(repo, new GeneratedSource().stream("big", () -> DumpLikeData.stream(512, SIZE)));
            assertEquals(SIZE, r.bytesRead());
            DigestTarget t = Repos.restore(repo, "latest");
            Map.Entry<String, Long> expected = DigestTarget.digestOf(DumpLikeData.stream(512, SIZE));
            assertEquals(expected.getValue(), t.sizes().get("big"));
            assertEquals(expected.getKey(), t.digests().get("big"));
        }
    }
}
