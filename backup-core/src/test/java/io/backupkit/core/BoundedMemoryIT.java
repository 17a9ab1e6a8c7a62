package io.backupkit.core;

import io.backupkit.testkit.GeneratedBackupMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Memory is bounded by configuration, not input size: 2 GiB backs up in a JVM limited to 256 MiB of heap. */
class BoundedMemoryIT {
    @TempDir
    Path dir;

    @Test
    void twoGibibyteStream_backsUpWithin256MiBHeap() throws Exception {
        long size = 2L * 1024 * 1024 * 1024;
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                GeneratedBackupMain.class.getName(), dir.resolve("repo").toString(), Long.toString(size), "2"))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.MINUTES));
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("bytesRead=" + size), out);
        assertTrue(out.contains("maxHeapMiB=2"), "child must run with the 256 MiB limit: " + out);
    }
}
