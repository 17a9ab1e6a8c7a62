package io.backupkit.core;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RepositoryChecker;
import io.backupkit.testkit.ScaleMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scale benchmark in small (opt-in: {@code -Dbackupkit.scale=true}): a synthetic repository of 1 million
 * blobs and 100 snapshots; open (list + dedup index), a backup and a prune each in a JVM with the CLI
 * launcher's heap and collector (128 MiB, serial). bench/scale.sh runs the full size (10 million blobs,
 * 1,000 snapshots, 512 MiB).
 */
@EnabledIfSystemProperty(named = "backupkit.scale", matches = "true")
class ScaleIT {
    @TempDir
    Path dir;

    private static String run(String heap, String... args) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), heap, "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                ScaleMain.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.MINUTES));
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void millionBlobs_openBackupPrune_in128MiB() throws Exception {
        Path repo = dir.resolve("repo");
        Path key = dir.resolve("key");
        run("-Xmx1g", "generate", repo.toString(), key.toString(), "100", "5000", "5000");
        String open = run("-Xmx128m", "open", repo.toString(), key.toString());
        assertTrue(open.contains("snapshots=100") && open.contains("blobs=1000"), open);
        String backup = run("-Xmx128m", "backup", repo.toString(), key.toString(), Long.toString(64L << 20));
        assertTrue(backup.contains("phase=backup"), backup);
        String prune = run("-Xmx128m", "prune", repo.toString(), key.toString(), "10");
        assertTrue(prune.contains("forgotten=10"), prune);
        try (Repository r = Repository.builder().storage(LocalStorage.of(repo)).keyProvider(KeyProviders.keyFile(key)).open()) {
            assertTrue(RepositoryChecker.builder().repository(r).build().check().ok());
            assertEquals(91, r.snapshots().summaries().size());
        }
    }
}
