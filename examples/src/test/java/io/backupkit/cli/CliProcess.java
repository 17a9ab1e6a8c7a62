package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Runs the packaged CLI, {@code target/backupkit.jar}, as a separate process, the way users and scripts do. */
final class CliProcess {
    /** Where CLI runs of the tests keep their metadata cache. */
    static final java.nio.file.Path CACHE = java.nio.file.Path.of("target", "cli-cache").toAbsolutePath();

    static final Path JAR = Path.of("target", "backupkit.jar").toAbsolutePath();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    record Result(List<String> args, int exitCode, String stdout, String stderr) {
        /** The one JSON document on stdout; fails when stdout holds anything else. */
        JsonNode json() {
            try {
                JsonNode node = MAPPER.readTree(stdout);
                assertTrue(node != null && node.isObject(), "stdout is one JSON object: " + this);
                // readTree stops after the first document: make sure nothing follows it
                assertEquals(1, MAPPER.readerFor(JsonNode.class).readValues(stdout).readAll().size(),
                        "exactly one JSON document on stdout: " + this);
                return node;
            } catch (IOException e) {
                return fail("stdout is not JSON: " + this, e);
            }
        }

        Result expect(int code) {
            assertEquals(code, exitCode, () -> "exit code of " + this);
            return this;
        }

        @Override
        public String toString() {
            return "backupkit " + String.join(" ", args) + " -> exit " + exitCode + "\n--- stdout:\n" + stdout + "\n--- stderr:\n" + stderr;
        }
    }

    private CliProcess() {
    }

    static Result run(Map<String, String> env, String... args) {
        return run(env, null, args);
    }

    static Result run(Map<String, String> env, Path workDir, String... args) {
        return runWith(javaOfThisBuild(), env, workDir, args);
    }

    /** The {@code java} launcher of the JDK running the tests. */
    static Path javaOfThisBuild() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /** Runs the jar with another {@code java} launcher (a newer JDK), stdin from /dev/null, stdout/stderr to files. */
    static Result runWith(Path java, Map<String, String> env, Path workDir, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java.toString());
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(Arrays.asList(args));
        return exec(cmd, env, workDir, Arrays.asList(args));
    }

    /** Runs the CLI inside a pseudo-terminal with util-linux {@code script}, as a person at a terminal would. */
    static Result runInPseudoTerminal(Map<String, String> env, String... args) {
        StringBuilder line = new StringBuilder(shellQuote(Path.of(System.getProperty("java.home"), "bin", "java").toString()))
                .append(" -jar ").append(shellQuote(JAR.toString()));
        for (String a : args) {
            line.append(' ').append(shellQuote(a));
        }
        List<String> cmd = List.of("script", "-qefc", line.toString(), "/dev/null");
        return exec(cmd, env, null, Arrays.asList(args));
    }

    /**
     * Runs the CLI in a pseudo-terminal and answers its prompts like a person: each answer is typed
     * only once its prompt has appeared, as echo is switched off only while a prompt waits.
     */
    static Result runInPseudoTerminalAnswering(Map<String, String> env, List<String> promptsAndAnswers, String... args) {
        return runInPseudoTerminalAnswering(javaOfThisBuild(), env, promptsAndAnswers, args);
    }

    /** Like {@link #runInPseudoTerminalAnswering(Map, List, String...)} with another {@code java} launcher. */
    static Result runInPseudoTerminalAnswering(Path java, Map<String, String> env, List<String> promptsAndAnswers, String... args) {
        StringBuilder line = new StringBuilder(shellQuote(java.toString()))
                .append(" -jar ").append(shellQuote(JAR.toString()));
        for (String a : args) {
            line.append(' ').append(shellQuote(a));
        }
        try {
            ProcessBuilder pb = new ProcessBuilder("script", "-qefc", line.toString(), "/dev/null").redirectErrorStream(true);
            pb.environment().keySet().removeIf(k -> k.startsWith("BACKUPKIT_") || k.startsWith("PG"));
            // the metadata cache of test repositories stays in the build directory, not in the user's home
            pb.environment().put("BACKUPKIT_CACHE_DIR", CACHE.toString());
            pb.environment().putAll(env);
            Process p = pb.start();
            StringBuffer output = new StringBuffer();
            Thread reader = new Thread(() -> {
                try (var in = p.getInputStream()) {
                    byte[] buf = new byte[4096];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        output.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            });
            reader.start();
            int searchFrom = 0;
            for (int i = 0; i + 1 < promptsAndAnswers.size(); i += 2) {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
                int at;
                while ((at = output.indexOf(promptsAndAnswers.get(i), searchFrom)) < 0) {
                    if (System.nanoTime() > deadline || !p.isAlive()) {
                        fail("prompt '" + promptsAndAnswers.get(i) + "' never appeared:\n" + output);
                    }
                    Thread.sleep(20);
                }
                searchFrom = at + promptsAndAnswers.get(i).length();
                p.getOutputStream().write((promptsAndAnswers.get(i + 1) + "\n").getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().flush();
            }
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail("backupkit " + Arrays.asList(args) + " did not finish in 5 minutes:\n" + output);
            }
            reader.join(10_000);
            return new Result(Arrays.asList(args), p.exitValue(), output.toString(), "");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static Result exec(List<String> cmd, Map<String, String> env, Path workDir, List<String> args) {
        try {
            Path out = Files.createTempFile("backupkit-cli-out", ".txt");
            Path err = Files.createTempFile("backupkit-cli-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                pb.environment().keySet().removeIf(k -> k.startsWith("BACKUPKIT_") || k.startsWith("PG"));
                pb.environment().put("BACKUPKIT_CACHE_DIR", CACHE.toString());
                pb.environment().putAll(env);
                if (workDir != null) {
                    pb.directory(workDir.toFile());
                }
                Process p = pb.start();
                if (!p.waitFor(10, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    fail("backupkit " + args + " did not finish in 10 minutes");
                }
                return new Result(args, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
