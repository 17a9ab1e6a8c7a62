package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.k8s.testing.FakeCluster;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pod executor against the mock API server, whose exec runs the commands as local processes:
 * streaming both ways (binary, 64 MiB through one exec), exit codes, stderr, environment, stopping,
 * timeouts, dropped connections, and the errors a user meets (RBAC, missing pod, container, tool).
 */
class PodExecutorIT {
    private static final long LARGE = 64L << 20;
    private static FakeCluster k8s;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void cluster() {
        k8s = FakeCluster.start();
        k8s.addPod("shop", "db-0", Map.of("app", "db", "role", "primary"), "postgres", "metrics");
        k8s.addPod("shop", "db-1", Map.of("app", "db", "role", "replica"), "postgres");
        k8s.addPod("shop", "db-2", Map.of("app", "db", "role", "broken"), false, "postgres");
        k8s.addPod("shop", "sidecar-only", Map.of("app", "other"), "sidecar");
        k8s.containerPath("shop", "sidecar-only", "sidecar", FakeCluster.minimalPath(tmp.resolve("minimal-bin")));
    }

    @AfterAll
    static void stop() {
        k8s.close();
    }

    @BeforeEach
    void reset() {
        k8s.allowAll();
    }

    private static PodExecutor.Builder executor() {
        return PodExecutor.builder().client(k8s.client()).namespace("shop").pod("db-0");
    }

    /** What a command left: exit code, stdout digest and length, stderr. */
    record Done(int exit, String sha256, long length, byte[] stdout, String stderr) {
    }

    /** Runs a command the way the PostgreSQL engine does: stdout and stderr drained on their own threads. */
    static Done run(PodExecutor ex, CommandSpec spec, InputStream input) throws Exception {
        try (RunningCommand rc = ex.start(spec)) {
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(rc.stderr().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "stderr failed: " + e.getMessage();
                }
            });
            CompletableFuture<Object[]> out = CompletableFuture.supplyAsync(() -> {
                try {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    ByteArrayOutputStream head = new ByteArrayOutputStream();
                    long n = 0;
                    byte[] buf = new byte[64 * 1024];
                    int r;
                    try (InputStream in = rc.stdout()) {
                        while ((r = in.read(buf)) >= 0) {
                            md.update(buf, 0, r);
                            if (head.size() < 1 << 20) {
                                head.write(buf, 0, Math.min(r, (1 << 20) - head.size()));
                            }
                            n += r;
                        }
                    }
                    return new Object[] {HexFormat.of().formatHex(md.digest()), n, head.toByteArray()};
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try (OutputStream os = rc.stdin()) {
                if (input != null) {
                    input.transferTo(os);
                }
            }
            Object[] o = out.get(5, TimeUnit.MINUTES);
            int exit = rc.waitFor();
            return new Done(exit, (String) o[0], (Long) o[1], (byte[]) o[2], err.get(1, TimeUnit.MINUTES));
        }
    }

    static CommandSpec sh(String script) {
        return CommandSpec.builder("sh").arg("-c").arg(script).build();
    }

    /** Seeded pseudo-random bytes: every byte value, NUL and newline included, nothing UTF-8 about it. */
    static Path randomFile(String name, long size, long seed) throws IOException {
        Path f = tmp.resolve(name);
        Random r = new Random(seed);
        byte[] buf = new byte[1 << 20];
        try (OutputStream os = Files.newOutputStream(f)) {
            for (long left = size; left > 0; left -= buf.length) {
                r.nextBytes(buf);
                os.write(buf, 0, (int) Math.min(buf.length, left));
            }
        }
        return f;
    }

    static String sha256(Path f) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(f)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    @Test
    void stdout_of64MiBOfBinary_arrivesByteForByte() throws Exception {
        Path f = randomFile("out.bin", LARGE + 12345, 1);
        try (PodExecutor ex = executor().build()) {
            Done d = run(ex, CommandSpec.builder("cat").arg(f.toString()).build(), null);
            assertEquals(0, d.exit(), d.stderr());
            assertEquals(LARGE + 12345, d.length());
            assertEquals(sha256(f), d.sha256());
        }
    }

    @Test
    void stdin_of64MiBOfBinary_reachesTheToolByteForByte_andEndsWhereTheCallerClosedIt() throws Exception {
        Path f = randomFile("in.bin", LARGE + 777, 2);
        try (PodExecutor ex = executor().build()) {
            // wc counts what arrived: not one byte more or less, and the tool saw the end of its input
            Done d = run(ex, sh("tee /dev/null | sha256sum; wc -c < /dev/null"), Files.newInputStream(f));
            assertEquals(0, d.exit(), d.stderr());
            String out = new String(d.stdout(), StandardCharsets.US_ASCII);
            assertEquals(sha256(f), out.split("\\s+")[0]);
        }
    }

    @Test
    void stdin_empty_givesTheToolAnImmediateEndOfInput() throws Exception {
        try (PodExecutor ex = executor().build()) {
            Done d = run(ex, sh("wc -c"), null);
            assertEquals(0, d.exit());
            assertEquals("0", new String(d.stdout(), StandardCharsets.US_ASCII).strip());
        }
    }

    @Test
    void exitCodeAndStderr_comeBack() throws Exception {
        try (PodExecutor ex = executor().build()) {
            Done d = run(ex, sh("echo 'pg_dump: error: connection failed' >&2; exit 3"), null);
            assertEquals(3, d.exit());
            assertEquals("pg_dump: error: connection failed\n", d.stderr(), "the wrapper's start line is not shown to the caller");
        }
    }

    @Test
    void environment_reachesTheTool_andSecretsStayOutOfTheExecUrl() throws Exception {
        String secret = "s3cr3t pa$$ 'w\"ord \\ ü";
        try (PodExecutor ex = executor().build()) {
            Done d = run(ex, CommandSpec.builder("sh").arg("-c").arg("printf %s \"$PGPASSWORD\"").env("PGPASSWORD", secret).build(), null);
            assertEquals(0, d.exit(), d.stderr());
            assertEquals(secret, new String(d.stdout(), StandardCharsets.UTF_8));
        }
        for (String request : k8s.requests()) {
            assertFalse(java.net.URLDecoder.decode(request, StandardCharsets.UTF_8).contains("s3cr3t"), request);
        }
        for (List<String> cmd : k8s.execs()) {
            assertFalse(String.join(" ", cmd).contains("s3cr3t"));
        }
    }

    @Test
    void environmentValueWithLineBreak_isRefusedWithoutShowingIt() {
        try (PodExecutor ex = executor().build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> ex.start(CommandSpec.builder("true").env("PGPASSWORD", "line1\nline2").build()));
            assertTrue(e.getMessage().contains("PGPASSWORD"), e.getMessage());
            assertFalse(e.getMessage().contains("line1"), e.getMessage());
        }
    }

    @Test
    void toolThatStopsReadingEarly_givesBrokenPipe_andItsExitCode() throws Exception {
        try (PodExecutor ex = executor().build(); RunningCommand rc = ex.start(sh("head -c 10 >/dev/null; exit 0"))) {
            rc.stdout().close();
            CompletableFuture.runAsync(() -> {
                try {
                    rc.stderr().readAllBytes();
                } catch (IOException ignored) {
                    // ended
                }
            });
            IOException e = assertThrows(IOException.class, () -> {
                byte[] buf = new byte[1 << 20];
                for (int i = 0; i < 1000; i++) {
                    rc.stdin().write(buf);
                }
                rc.stdin().close();
            });
            assertTrue(e.getMessage().contains("Broken pipe") || e.getMessage().contains("ended"), e.getMessage());
            assertEquals(0, rc.waitFor());
        }
    }

    @Test
    void workingDirectory_isUsed() throws Exception {
        try (PodExecutor ex = executor().build()) {
            Done d = run(ex, CommandSpec.builder("pwd").workingDirectory(tmp).build(), null);
            assertEquals(tmp.toRealPath().toString(), new String(d.stdout(), StandardCharsets.UTF_8).strip());
        }
    }

    @Test
    void destroy_stopsTheRemoteProcess() throws Exception {
        try (PodExecutor ex = executor().killGracePeriod(Duration.ofSeconds(2)).build()) {
            RunningCommand rc = ex.start(sh("exec sleep 600"));
            long pid = ((io.backupkit.k8s.internal.PodProcess) rc).pid();
            assertTrue(ProcessHandle.of(pid).isPresent(), "the remote (here: local) process runs");
            CompletableFuture.runAsync(() -> drain(rc.stdout()));
            CompletableFuture.runAsync(() -> drain(rc.stderr()));
            long t = System.nanoTime();
            rc.destroy();
            assertFalse(rc.isAlive());
            assertTrue(rc.waitFor(Duration.ofSeconds(30)));
            awaitGone(pid);
            assertTrue(System.nanoTime() - t < TimeUnit.SECONDS.toNanos(60));
            rc.close();
        }
    }

    @Test
    void commandTimeout_stopsTheCommand_andSaysSo() throws Exception {
        try (PodExecutor ex = executor().commandTimeout(Duration.ofSeconds(2)).killGracePeriod(Duration.ofSeconds(1)).build();
             RunningCommand rc = ex.start(sh("exec sleep 600"))) {
            long pid = ((io.backupkit.k8s.internal.PodProcess) rc).pid();
            CompletableFuture.runAsync(() -> drain(rc.stdout()));
            CompletableFuture.runAsync(() -> drain(rc.stderr()));
            KubernetesException e = assertThrows(KubernetesException.class, rc::waitFor);
            assertTrue(e.getMessage().contains("ran longer than the command timeout (PT2S)"), e.getMessage());
            assertTrue(e.getMessage().contains("pod db-0"), e.getMessage());
            awaitGone(pid);
        }
    }

    @Test
    void droppedConnectionMidStream_failsTheRead_andTheWait_andStopsTheRemoteProcess() throws Exception {
        Path f = randomFile("drop.bin", 8L << 20, 3);
        k8s.dropNextExec(cmd -> cmd.contains("drop-me"), 1 << 20, -1);
        try (PodExecutor ex = executor().build();
             RunningCommand rc = ex.start(CommandSpec.builder("sh").arg("-c").arg("cat \"$0\"; sleep 600").arg(f.toString())
                     .arg("drop-me").build())) {
            long pid = ((io.backupkit.k8s.internal.PodProcess) rc).pid();
            CompletableFuture.runAsync(() -> drain(rc.stderr()));
            rc.stdin().close();
            IOException e = assertThrows(IOException.class, () -> rc.stdout().transferTo(OutputStream.nullOutputStream()));
            assertTrue(e.getMessage().contains("closed before the command ended"), e.getMessage());
            KubernetesException w = assertThrows(KubernetesException.class, rc::waitFor);
            assertTrue(w.getMessage().contains("pod db-0"), w.getMessage());
            awaitGone(pid);
        }
    }

    @Test
    void droppedConnectionWhileSendingInput_neverLooksLikeACompleteInput() throws Exception {
        Path out = tmp.resolve("half-written");
        k8s.dropNextExec(cmd -> String.join(" ", cmd).contains("half-written"), -1, 2 << 20);
        try (PodExecutor ex = executor().build();
             RunningCommand rc = ex.start(CommandSpec.builder("sh").arg("-c").arg("cat > \"$0\" && echo complete > \"$0.done\"")
                     .arg(out.toString()).build())) {
            CompletableFuture.runAsync(() -> drain(rc.stdout()));
            CompletableFuture.runAsync(() -> drain(rc.stderr()));
            assertThrows(Exception.class, () -> {
                try (OutputStream os = rc.stdin()) {
                    byte[] buf = new byte[1 << 20];
                    for (int i = 0; i < 64; i++) {
                        os.write(buf);
                    }
                }
                rc.waitFor();
            });
        }
        // the wrapper saw its input end without the closing frame and stopped the tool: no "complete" marker
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && !Files.exists(out.resolveSibling("half-written.done"))) {
            Thread.sleep(200);
            if (Files.exists(out) && !processAlive("half-written")) {
                break;
            }
        }
        assertFalse(Files.exists(out.resolveSibling("half-written.done")), "a cut input must not complete the tool's work");
    }

    @Test
    void manyCommandsAtOnce_eachGetsItsOwnStreams() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (PodExecutor ex = executor().build()) {
            List<Future<Done>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                int n = i;
                results.add(pool.submit(() -> run(ex, sh("head -c " + (n * 100_000 + 1) + " /dev/zero; exit " + n), null)));
            }
            for (int i = 0; i < 8; i++) {
                Done d = results.get(i).get(2, TimeUnit.MINUTES);
                assertEquals(i, d.exit());
                assertEquals(i * 100_000L + 1, d.length());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void podBySelector_findsTheOneReadyPrimary() throws Exception {
        try (PodExecutor ex = PodExecutor.builder().client(k8s.client()).namespace("shop").selector("app=db,role=primary").build()) {
            assertEquals("db-0", ex.resolve());
            assertEquals("postgres", ex.container());
            assertEquals(0, run(ex, sh("true"), null).exit());
        }
    }

    @Test
    void selectorMatchingSeveralPods_isRefusedWithTheirNames() {
        try (PodExecutor ex = PodExecutor.builder().client(k8s.client()).namespace("shop").selector("app=db").build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, ex::resolve);
            assertTrue(e.getMessage().contains("db-0") && e.getMessage().contains("db-1"), e.getMessage());
            assertTrue(e.getMessage().contains("cnpg.io/instanceRole=primary"), e.getMessage());
        }
    }

    @Test
    void missingPod_saysWhichAndWhere() {
        try (PodExecutor ex = executor().pod("db-9").build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> ex.start(sh("true")));
            assertEquals("pod db-9 not found in namespace shop: check the name (kubectl get pods -n shop) or select the pod by label",
                    e.getMessage());
        }
    }

    @Test
    void podNotReady_isAKubernetesException_withTheReason() {
        try (PodExecutor ex = executor().pod("db-2").build()) {
            KubernetesException e = assertThrows(KubernetesException.class, () -> ex.start(sh("true")));
            assertTrue(e.getMessage().startsWith("pod db-2 in namespace shop is not ready: phase Pending"), e.getMessage());
        }
    }

    @Test
    void missingContainer_listsTheContainers() {
        try (PodExecutor ex = executor().container("pgbouncer").build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> ex.start(sh("true")));
            assertEquals("container pgbouncer not found in pod db-0 in namespace shop (its containers: postgres, metrics)", e.getMessage());
        }
    }

    @Test
    void toolMissingInTheContainer_isAnEngineExceptionNamingToolAndContainer() {
        try (PodExecutor ex = PodExecutor.builder().client(k8s.client()).namespace("shop").pod("sidecar-only").build()) {
            EngineException e = assertThrows(EngineException.class, () -> ex.start(CommandSpec.builder("pg_dump").arg("--version").build()));
            assertTrue(e.getMessage().startsWith("pg_dump not found in pod sidecar-only (container sidecar) in namespace shop"),
                    e.getMessage());
            assertEquals(127, e.exitCode());
        }
    }

    @Test
    void rbacDeniedExec_namesVerbResourceAndNamespace() {
        k8s.deny("create", "pods/exec", "shop");
        try (PodExecutor ex = executor().build()) {
            KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class, () -> ex.start(sh("true")));
            assertEquals("create", e.verb());
            assertEquals("pods/exec", e.resource());
            assertEquals("shop", e.namespace());
            assertTrue(e.getMessage().startsWith("Kubernetes RBAC denied create on pods/exec in namespace shop (pod db-0)"), e.getMessage());
            assertTrue(e.getMessage().contains("docs/kubernetes.md#rbac"), e.getMessage());
        }
    }

    @Test
    void rbacDeniedReadingPods_namesVerbResourceAndNamespace() {
        k8s.deny("list", "pods", "shop");
        try (PodExecutor ex = PodExecutor.builder().client(k8s.client()).namespace("shop").selector("role=primary").build()) {
            KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class, ex::resolve);
            assertEquals("list", e.verb());
            assertEquals("pods", e.resource());
            assertTrue(e.getMessage().contains("cannot list resource \"pods\""), e.getMessage());
        }
    }

    private static void drain(InputStream in) {
        try (in) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // ended
        }
    }

    private static void awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("process " + pid + " still runs");
            }
            Thread.sleep(100);
        }
    }

    private static boolean processAlive(String argFragment) {
        return ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().map(c -> c.contains(argFragment)).orElse(false));
    }
}
