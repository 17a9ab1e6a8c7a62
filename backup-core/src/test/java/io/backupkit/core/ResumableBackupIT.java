package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.ChildMain;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9 item 7, measured: a backup killed with SIGKILL at about 50 % is run again, and the rerun uploads
 * at most 55 % of what a whole backup uploads.
 */
class ResumableBackupIT {
    private static final long SIZE = 64L * 1024 * 1024;

    @TempDir
    Path dir;

    private Repository create(Path repoDir, Path keyFile) {
        DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repository.builder()
                .storage(LocalStorage.of(repoDir)).keyProvider(KeyProviders.keyFile(keyFile)).packSize(1024 * 1024);
        return b.chunkerSeed(7).create();
    }

    @Test
    void backupKilledAtHalf_rerunUploadsAtMost55Percent() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage reference = new InterceptingStorage(LocalStorage.of(dir.resolve("reference")));
        try (Repository repo = Repository.builder().storage(reference).keyProvider(KeyProviders.keyFile(keyFile))
                .packSize(1024 * 1024).create()) {
            reference.reset();
            BackupManager.builder().repository(repo).parallelism(2).indexCheckpoints(1, Duration.ofMinutes(10))
                    .source(new GeneratedSource().stream("data", () -> RandomData.stream(11, SIZE))).build().backup();
        }
        long full = reference.bytes("put", "*");

        Path repoDir = dir.resolve("repo");
        try (Repository repo = create(repoDir, keyFile)) {
            assertEquals(0, repo.snapshots().list().size());
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(List.of(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                ChildMain.class.getName(), "backup", repoDir.toString(), keyFile.toString(), "11", Long.toString(SIZE), "random", "1"))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long killedAt = -1;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("stored ") && Long.parseLong(line.substring(7)) >= full / 2) {
                    killedAt = Long.parseLong(line.substring(7));
                    child.destroyForcibly();
                    break;
                }
            }
        }
        assertTrue(child.waitFor(5, TimeUnit.MINUTES));
        assertTrue(killedAt > 0, "the child must be killed while backing up, exit " + child.exitValue());
        assertEquals(137, child.exitValue(), "killed by SIGKILL");

        InterceptingStorage counting = new InterceptingStorage(LocalStorage.of(repoDir));
        try (Repository repo = Repository.builder().storage(counting).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
            assertEquals(0, repo.snapshots().list().size(), "the killed backup left no snapshot");
            counting.reset();
            String id = BackupManager.builder().repository(repo).parallelism(2)
                    .source(new GeneratedSource().stream("data", ChildMain.data("random", 11, SIZE))).build().backup().snapshotId();
            long rerun = counting.bytes("put", "*");
            System.out.printf("full backup %d bytes, killed after %d stored, rerun uploaded %d (%.1f %%)%n", full, killedAt, rerun,
                    100.0 * rerun / full);
            assertTrue(rerun <= full * 0.55, "rerun uploaded " + rerun + " of " + full + " bytes (killed at " + killedAt + ")");
            DigestTarget t = Repos.restore(repo, id);
            assertEquals(DigestTarget.digestOf(RandomData.stream(11, SIZE)).getKey(), t.digests().get("data"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
        }
    }
}
