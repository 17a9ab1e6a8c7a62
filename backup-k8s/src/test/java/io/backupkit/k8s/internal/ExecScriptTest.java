package io.backupkit.k8s.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.CommandSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The wrapper script run directly with this machine's /bin/sh (dash) and coreutils, fed the framed
 * protocol by hand: what a pod's shell gets, without any Kubernetes in between.
 */
class ExecScriptTest {

    /** Starts the wrapper around {@code spec} with stdin kept open by the test (as an exec connection does). */
    private static Process start(CommandSpec spec) throws IOException {
        return new ProcessBuilder(ExecScript.command(spec)).start();
    }

    private static byte[] frames(byte[] data, long seed, boolean closing) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Random r = new Random(seed);
        int i = 0;
        while (i < data.length) {
            int n = Math.min(data.length - i, 1 + r.nextInt(300_000));
            out.writeBytes((n + "\n").getBytes(StandardCharsets.US_ASCII));
            out.write(data, i, n);
            i += n;
        }
        if (closing) {
            out.writeBytes("0\n".getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void framedInput_reachesTheToolExactly_whateverTheFrameSizes(long seed) throws Exception {
        byte[] data = new byte[3_000_000 + (int) seed];
        new Random(seed).nextBytes(data);
        Process p = start(CommandSpec.builder("sha256sum").build());
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        OutputStream in = p.getOutputStream();
        in.write(ExecScript.header(Map.of()));
        in.write(frames(data, seed, true));
        in.flush();
        // stdin stays open, as on an exec connection: the closing frame alone ends the tool's input
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)),
                new String(out.get(), StandardCharsets.US_ASCII).split("\\s+")[0]);
        assertTrue(new String(err.get(), StandardCharsets.US_ASCII).startsWith(ExecScript.STARTED));
        in.close();
    }

    @Test
    void inputCutBeforeTheClosingFrame_stopsTheTool_andExits124() throws Exception {
        Process p = start(CommandSpec.builder("sh").arg("-c").arg("cat >/dev/null; echo complete").build());
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(ExecScript.header(Map.of()));
            in.write(frames(new byte[100_000], 9, false)); // then the connection "drops": stdin closes
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(ExecScript.EXIT_STDIN_CUT, p.exitValue());
        assertFalse(new String(out.get(), StandardCharsets.UTF_8).contains("complete"));
        assertTrue(new String(err.get(), StandardCharsets.UTF_8).contains(ExecScript.STDIN_CUT));
    }

    @Test
    void environment_isExported_literally() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGPASSWORD", "a b$c`d'e\"f\\g ü *");
        env.put("EMPTY", "");
        Process p = start(CommandSpec.builder("sh").arg("-c").arg("printf '%s|%s' \"$PGPASSWORD\" \"$EMPTY\"").build());
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(ExecScript.header(env));
            in.write("0\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals("a b$c`d'e\"f\\g ü *|", new String(out.get(), StandardCharsets.UTF_8));
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void ambientVariablesOfTheContainer_reachTheTool_onlyWhenTheSpecInheritsThem(boolean inherit) throws Exception {
        CommandSpec spec = CommandSpec.builder("sh").arg("-c").arg("printf '%s|%s|%s' \"${PGOPTIONS-unset}\" \"$PGPASSWORD\" \"${PATH:+path}\"")
                .inheritEnvironment(inherit).env("PGPASSWORD", "pw").build();
        ProcessBuilder pb = new ProcessBuilder(ExecScript.command(spec));
        pb.environment().put("PGOPTIONS", "-c statement_timeout=1");
        Process p = pb.start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(ExecScript.header(spec.environment(), spec.inheritEnvironment()));
            in.write("0\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        assertEquals((inherit ? "-c statement_timeout=1" : "unset") + "|pw|path", new String(out.get(), StandardCharsets.UTF_8));
    }

    @Test
    void toolNotOnThePath_isReported_asNotFound() throws Exception {
        Process p = start(CommandSpec.builder("no-such-tool-here").build());
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(ExecScript.header(Map.of()));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(127, p.exitValue());
        assertEquals(ExecScript.NOT_FOUND + "no-such-tool-here\n", new String(err.get(), StandardCharsets.UTF_8));
    }

    @Test
    void header_refusesNamesAndValuesItCannotCarry() {
        assertThrows(ConfigurationException.class, () -> ExecScript.header(Map.of("BAD-NAME", "x")));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> ExecScript.header(Map.of("PGPASSWORD", "a\nb")));
        assertFalse(e.getMessage().contains("a\nb"));
    }

    @Test
    void command_isTheWrapperThenTheToolUnchanged() {
        List<String> cmd = ExecScript.command(CommandSpec.builder("pg_dump").arg("--dbname=host='x' user='u'").arg("--table=\"s\".\"t\"")
                .build());
        assertEquals(List.of("sh", "-c"), cmd.subList(0, 2));
        assertEquals(List.of("backupkit-exec", "", "pg_dump", "--dbname=host='x' user='u'", "--table=\"s\".\"t\""), cmd.subList(3, 8));
    }

    /**
     * A tool may stop reading its input and still succeed (pg_restore --list stops after the table of
     * contents): the frames that can no longer be delivered are not a cut connection, and the tool's
     * own exit status is the result. Here the tool closes its stdin and ends a moment later, so the
     * feeder's failed write always comes first.
     */
    @Test
    void toolThatStopsReadingAndSucceeds_exitsWithItsOwnStatus_notAsACutInput() throws Exception {
        Process p = start(CommandSpec.builder("sh").arg("-c").arg("head -c 10 >/dev/null; exec 0<&-; sleep 1; echo done; exit 0").build());
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        OutputStream in = p.getOutputStream();
        try {
            in.write(ExecScript.header(Map.of()));
            in.write(frames(new byte[4_000_000], 5, true));
            in.flush();
        } catch (IOException ended) {
            // the wrapper may be gone before all frames are written, as an exec connection would be
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(err.get(), StandardCharsets.UTF_8));
        assertEquals("done\n", new String(out.get(), StandardCharsets.UTF_8));
        assertFalse(new String(err.get(), StandardCharsets.UTF_8).contains(ExecScript.STDIN_CUT));
        try {
            in.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /**
     * A minimal container has sh and dd but maybe no env or sed: dropping its ambient variables must
     * work with the shell alone, also for a value spanning lines that looks like another variable.
     */
    @Test
    void ambientVariablesAreDropped_inAContainerWithOnlyShAndDd(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path bin = java.nio.file.Files.createDirectories(tmp.resolve("bin"));
        for (String tool : List.of("sh", "dd")) {
            java.nio.file.Path target = java.util.stream.Stream.of("/bin", "/usr/bin").map(d -> java.nio.file.Path.of(d, tool))
                    .filter(java.nio.file.Files::isExecutable).findFirst().orElseThrow();
            java.nio.file.Files.createSymbolicLink(bin.resolve(tool), target);
        }
        CommandSpec spec = CommandSpec.builder("sh").arg("-c")
                .arg("printf '%s|%s|%s|%s' \"${PGOPTIONS-unset}\" \"${MULTI-unset}\" \"$PGPASSWORD\" \"$PATH\"")
                .inheritEnvironment(false).env("PGPASSWORD", "pw").build();
        ProcessBuilder pb = new ProcessBuilder(ExecScript.command(spec));
        pb.environment().put("PATH", bin.toString());
        pb.environment().put("PGOPTIONS", "-c statement_timeout=1");
        pb.environment().put("MULTI", "a\nexport PGSSLMODE=require");
        Process p = pb.start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (OutputStream in = p.getOutputStream()) {
            in.write(ExecScript.header(spec.environment(), spec.inheritEnvironment()));
            in.write("0\n".getBytes(StandardCharsets.US_ASCII));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String stderr = new String(err.get(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), stderr);
        assertTrue(stderr.startsWith(ExecScript.STARTED), "nothing but the start line before the tool: " + stderr);
        assertEquals("unset|unset|pw|" + bin, new String(out.get(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(java.io.InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
