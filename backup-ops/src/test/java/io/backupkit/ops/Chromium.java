package io.backupkit.ops;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Renders a page in the real headless Chromium from apt (installed by .ci/run). */
final class Chromium {
    private Chromium() {
    }

    static Path binary() {
        for (String c : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        return fail("Chromium is not installed: apt-get install -y chromium (.ci/run does)");
    }

    private static String run(Path page, Path workDir, String... mode) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(workDir, "chromium-profile");
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile));
        cmd.addAll(List.of(mode));
        cmd.add(page.toUri().toString());
        Path out = workDir.resolve("chromium-stdout-" + System.nanoTime() + ".txt");
        Path err = workDir.resolve("chromium-stderr-" + System.nanoTime() + ".txt");
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(3, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("chromium did not finish in 3 minutes: " + Files.readString(err));
        }
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + readQuietly(err));
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The DOM after Chromium parsed and laid out the page. */
    static String dumpDom(Path page, Path workDir) throws IOException, InterruptedException {
        return run(page, workDir, "--dump-dom");
    }

    /** Renders a screenshot and checks it is a non-trivial PNG. */
    static Path screenshot(Path page, Path workDir) throws IOException, InterruptedException {
        Path png = workDir.resolve("report.png");
        run(page, workDir, "--screenshot=" + png, "--window-size=1280,2000", "--hide-scrollbars");
        byte[] b = Files.readAllBytes(png);
        assertTrue(b.length > 10_000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', "a rendered PNG, " + b.length + " bytes");
        return png;
    }
}
