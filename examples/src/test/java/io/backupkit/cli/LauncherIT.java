package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backupkit.s3.S3ProxyFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The launcher the build puts beside the jar ({@code target/backupkit}): it runs the CLI, with the
 * class-data-sharing archive the build made for this very jar, keeps stdout to the command's own
 * output whatever the JVM has to say, and works through a symbolic link and from another directory.
 */
class LauncherIT {
    private static final Path TARGET = Path.of("target").toAbsolutePath();
    private static final Path LAUNCHER = TARGET.resolve("backupkit");

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    /** Asserts that {@code -XX:+PrintFlagsFinal} output shows {@code flag = value}. */
    private static void assertFlag(String flags, String flag, String value, String message) {
        assertTrue(flags.matches("(?s).*" + flag + "\\s+= " + value + "\\s.*"), message);
    }

    private static Run run(Path launcher, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("BACKUPKIT_PASSWORD");
        pb.environment().remove("BACKUPKIT_JAVA_OPTS");
        // inherited JVM options (an IDE's or an APM agent) would change what the launcher does with its archive
        List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS").forEach(pb.environment()::remove);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("launcher", ".out");
        Path err = Files.createTempFile("launcher", ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError("launcher did not finish in 5 minutes: " + cmd);
        }
        Run r = new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        Files.delete(out);
        Files.delete(err);
        return r;
    }

    /** The launcher, jar and archive of the build copied into {@code dir/name}, with any of the build's {@code more} files. */
    private Path copyOfTheInstallation(String name, String... more) throws IOException {
        Path to = Files.createDirectories(dir.resolve(name));
        List<String> files = new ArrayList<>(List.of("backupkit", "backupkit.jar", "backupkit.jsa"));
        files.addAll(List.of(more));
        for (String f : files) {
            Files.copy(TARGET.resolve(f), to.resolve(f));
        }
        return to;
    }

    @Test
    void theBuildsArchive_isValidForTheJarBesideIt() throws Exception {
        assertTrue(Files.isExecutable(LAUNCHER), "target/backupkit is executable");
        assertEquals(TARGET.resolve("backupkit.jar").toString(), Files.readString(TARGET.resolve("backupkit.jsa.path")).strip());
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:SharedArchiveFile=" + TARGET.resolve("backupkit.jsa"), "-XX:+PrintSharedArchiveAndExit",
                "-jar", TARGET.resolve("backupkit.jar").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertTrue(out.contains("archive is valid"), out);
    }

    @Test
    void version_andJsonThroughTheLauncher() throws Exception {
        Run v = run(LAUNCHER, Map.of(), "--version");
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.out().startsWith("backupkit "), v.out());
        String repo = dir.resolve("repo").toString();
        assertEquals(0, run(LAUNCHER, Map.of(), "init", "--repo", repo, "--unencrypted").code());
        Run list = run(LAUNCHER, Map.of(), "list", "--repo", repo, "--json");
        assertEquals(0, list.code(), list.toString());
        JsonNode doc = new ObjectMapper().readTree(list.out());
        assertTrue(doc.path("snapshots").isArray(), list.out());
        assertEquals("", list.err(), "nothing on stderr for a clean run");
    }

    /**
     * An installation moved elsewhere (its archive made for another path) and an archive this JVM cannot
     * map: both still run, with stdout holding only the JSON document and no warning on every call.
     */
    @Test
    void aMovedInstallation_runsWithoutItsArchive_andKeepsStdoutClean() throws Exception {
        Path moved = copyOfTheInstallation("moved", "backupkit.jsa.path");
        String repo = dir.resolve("repo").toString();
        assertEquals(0, run(moved.resolve("backupkit"), Map.of(), "init", "--repo", repo, "--unencrypted").code());
        // the path file still names the old jar: the launcher leaves the archive out
        Run a = run(moved.resolve("backupkit"), Map.of(), "list", "--repo", repo, "--json");
        assertEquals(0, a.code(), a.toString());
        new ObjectMapper().readTree(a.out());
        assertEquals("", a.err());
        // the path file says this jar, but the archive was made for the other one: the JVM refuses it, silently
        Files.writeString(moved.resolve("backupkit.jsa.path"), moved.resolve("backupkit.jar") + "\n");
        Run b = run(moved.resolve("backupkit"), Map.of(), "list", "--repo", repo, "--json");
        assertEquals(0, b.code(), b.toString());
        JsonNode doc = new ObjectMapper().readTree(b.out());
        assertTrue(doc.path("snapshots").isArray(), b.out());
        assertFalse(b.out().contains("[warning]") || b.err().contains("[warning]"), b.toString());
    }

    /**
     * The archive is a static one, which replaces the JDK's own; a JDK updated since the build refuses it, and the call
     * would run with no class-data sharing at all. The build records its JDK (backupkit.jsa.jdk): for another JDK build
     * the launcher leaves the archive out, and the JVM maps the JDK's own archive instead.
     */
    @Test
    void anArchiveMadeByAnotherJdkBuild_isLeftOut_andTheJdksOwnArchiveIsMapped() throws Exception {
        Path copy = copyOfTheInstallation("copy", "backupkit.jsa.jdk");
        Files.writeString(copy.resolve("backupkit.jsa.path"), copy.toRealPath().resolve("backupkit.jar") + "\n");
        String ours = "trying to map " + copy.toRealPath().resolve("backupkit.jsa");
        Map<String, String> env = Map.of("BACKUPKIT_JAVA_OPTS", "-Xlog:cds=info:stderr", "JAVA_HOME", System.getProperty("java.home"));
        Run same = run(copy.resolve("backupkit"), env, "--version");
        assertEquals(0, same.code(), same.toString());
        assertTrue(same.err().contains(ours), "the build's own JDK maps the archive: " + same.err());

        String recorded = Files.readString(copy.resolve("backupkit.jsa.jdk"));
        assertTrue(recorded.contains("JAVA_RUNTIME_VERSION="), recorded);
        Files.writeString(copy.resolve("backupkit.jsa.jdk"), recorded.replaceAll("JAVA_RUNTIME_VERSION=\"[^\"]*\"",
                "JAVA_RUNTIME_VERSION=\"17.0.0+0-another-build\""));
        Run other = run(copy.resolve("backupkit"), env, "--version");
        assertEquals(0, other.code(), other.toString());
        assertFalse(other.err().contains(ours), "another JDK build's archive is left out: " + other.err());
        assertTrue(other.err().contains("trying to map "), "the JDK's own archive is mapped instead: " + other.err());
    }

    /** The archive is what makes a call start fast: the launcher itself must hand it to the JVM. */
    @Test
    void theLauncher_mapsTheBuildsArchive() throws Exception {
        Run v = run(LAUNCHER, Map.of("BACKUPKIT_JAVA_OPTS", "-Xlog:cds=info:stderr"), "--version");
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.err().contains("trying to map " + TARGET.toRealPath().resolve("backupkit.jsa")), v.err());
    }

    /**
     * The build's second training also runs the CLI on S3 (an in-process imitation), so an s3:// call maps the
     * AWS SDK's and its HTTP client's classes from that archive instead of loading ~2,200 of them from the jar;
     * other calls keep the smaller archive (an archive is mapped whole: RSS).
     */
    @Test
    void anS3Call_mapsTheSdkClassesFromTheArchive() throws Exception {
        try (S3ProxyFixture s3 = new S3ProxyFixture().start()) {
            String repo = "s3://" + s3.newBucket() + "/repo?endpoint=" + s3.endpoint() + "&path-style=true&region=us-east-1";
            Map<String, String> env = new HashMap<>(Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey()));
            assertEquals(0, run(LAUNCHER, env, "init", "--repo", repo, "--unencrypted").code());
            Path log = dir.resolve("classes.log");
            env.put("BACKUPKIT_JAVA_OPTS", "-Xlog:class+load=info:file=" + log);
            Run list = run(LAUNCHER, env, "list", "--repo", repo, "--json");
            assertEquals(0, list.code(), list.toString());
            Run cds = run(LAUNCHER, Map.of("BACKUPKIT_JAVA_OPTS", "-Xlog:cds=info:stderr"), "list", "--repo", dir.resolve("local").toString());
            assertTrue(cds.err().contains("trying to map " + TARGET.toRealPath().resolve("backupkit.jsa")),
                    "a call without s3:// keeps the smaller archive: " + cds.err());
            List<String> sdk = Files.readAllLines(log).stream()
                    .filter(l -> l.contains(" software.amazon.awssdk.") || l.contains(" org.apache.hc.")).toList();
            long shared = sdk.stream().filter(l -> l.contains("source: shared objects file")).count();
            assertTrue(sdk.size() > 1000, "an S3 call loads the SDK: " + sdk.size() + " classes");
            assertTrue(shared >= 0.95 * sdk.size(), shared + " of " + sdk.size() + " SDK classes from the archive; from the jar: "
                    + sdk.stream().filter(l -> !l.contains("shared objects file")).limit(10).toList());
        }
    }

    /**
     * The build has no PostgreSQL to train against, yet a PostgreSQL backup (pgjdbc, the postgres engine, JDK
     * networking) maps its classes from the archive: the training loads them by name ({@code cds-classes.txt}).
     * Before, ~400 of them were read from the jar and verified on every backup; and picocli's ~200 (Java 5 class
     * files, which JDK 17's dynamic archives refuse) until the archive became a static one.
     */
    @Test
    void aPostgresBackup_mapsItsClassesFromTheArchive() throws Exception {
        Path log = dir.resolve("classes.log");
        Run backup = postgresBackups(List.of(Map.of("BACKUPKIT_JAVA_OPTS", "-Xlog:class+load=info:file=" + log))).get(0);
        assertEquals(0, backup.code(), backup.toString());
        List<String> named = Files.readAllLines(log).stream()
                .filter(l -> l.contains("source: shared objects file") || l.contains("source: jrt:/") || l.contains("backupkit.jar")).toList();
        List<String> fromJar = named.stream().filter(l -> !l.contains("source: shared objects file")).toList();
        assertTrue(named.stream().filter(l -> l.contains(" org.postgresql.")).count() > 100, "a backup loads pgjdbc");
        assertTrue(fromJar.size() <= 0.02 * named.size(), fromJar.size() + " of " + named.size() + " classes not from the archive: "
                + fromJar.stream().limit(10).toList());
    }

    /**
     * A JFR recording (or a Java agent, e.g. an APM agent in JAVA_TOOL_OPTIONS) beside the archive crashed the JVM
     * of a PostgreSQL backup (JDK 17: SIGSEGV in check_shared_class_file_load_hook, exit 134): the launcher leaves
     * the archive out then, wherever the options come from, and the backup and its recording complete.
     */
    @Test
    void aBackupWithAFlightRecording_completes_insteadOfCrashingTheJvm() throws Exception {
        String cdsLog = " -Xlog:cds=info:stderr";
        String ours = "trying to map " + TARGET.toRealPath().resolve("backupkit.jsa");
        for (String variable : List.of("BACKUPKIT_JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS")) {
            // jdwp: an agent every JDK has (listening on a free port, not waiting for a debugger)
            for (String opt : List.of("-XX:StartFlightRecording=filename=" + dir.resolve("v.jfr"),
                    "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:0")) {
                Map<String, String> env = new HashMap<>(Map.of("BACKUPKIT_JAVA_OPTS", cdsLog));
                env.merge(variable, opt, (a, b) -> b + a);
                Run v = run(LAUNCHER, env, "--version");
                assertEquals(0, v.code(), variable + "=" + opt + ": " + v);
                assertFalse(v.err().contains(ours), variable + "=" + opt + " still maps the archive: " + v.err());
            }
        }
        Run plain = run(LAUNCHER, Map.of("BACKUPKIT_JAVA_OPTS", cdsLog.trim()), "--version");
        assertTrue(plain.err().contains(ours), "without them the archive is mapped: " + plain.err());

        Path jfr = dir.resolve("backup.jfr");
        Path toolJfr = dir.resolve("tool.jfr");
        List<Run> runs = postgresBackups(List.of(
                Map.of("BACKUPKIT_JAVA_OPTS", "-XX:StartFlightRecording=filename=" + jfr + ",settings=profile"),
                Map.of("JAVA_TOOL_OPTIONS", "-XX:StartFlightRecording=filename=" + toolJfr)));
        for (Run r : runs) {
            assertEquals(0, r.code(), r.toString());
        }
        assertTrue(Files.size(jfr) > 0 && Files.size(toolJfr) > 0, "the recordings were written");
    }

    /**
     * CLI backups through the launcher of one small PostgreSQL database, each into a new repository, each with
     * these extra environment variables.
     */
    private List<Run> postgresBackups(List<Map<String, String>> envs) throws Exception {
        try (io.backupkit.postgres.testing.EphemeralPostgres pg = io.backupkit.postgres.testing.EphemeralPostgres.start()) {
            pg.createDatabase("shop");
            pg.execute("shop", DemoCommand.sampleSchemaAndData(200));
            List<Run> runs = new ArrayList<>();
            for (Map<String, String> extra : envs) {
                Map<String, String> env = new HashMap<>(Map.of("BACKUPKIT_DB_PASSWORD", pg.password(), "BACKUPKIT_PASSWORD", "launcher-it"));
                Path repo = dir.resolve("repo-" + runs.size());
                assertEquals(0, run(LAUNCHER, env, "init", "--repo", repo.toString()).code());
                env.putAll(extra);
                List<String> args = new ArrayList<>(List.of("backup", "--repo", repo.toString(), "--db",
                        "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/shop", "--jobs", "2", "--json"));
                pg.binDirectory().ifPresent(bin -> args.addAll(List.of("-o", "toolDirectory=" + bin)));
                runs.add(run(LAUNCHER, env, args.toArray(String[]::new)));
            }
            return runs;
        }
    }

    /**
     * Commands that move data compile only what stays hot, with both compilers (C1 from 2,000 calls, C2 from
     * 40,000); short ones stop at C1. docs/performance.md ("jitwall") has the measurements.
     */
    @Test
    void dataCommands_compileOnlyWhatStaysHot_shortOnesStopAtC1() throws Exception {
        Map<String, String> flags = Map.of("BACKUPKIT_JAVA_OPTS", "-XX:+PrintFlagsFinal");
        String backup = run(LAUNCHER, flags, "backup", "--help").out();
        assertFlag(backup, "Tier3InvocationThreshold", "2000", "backup: Tier3 threshold raised");
        assertFlag(backup, "Tier4InvocationThreshold", "40000", "backup: Tier4 threshold raised");
        assertFlag(backup, "TieredStopAtLevel", "4", "backup: C2 on");
        String list = run(LAUNCHER, flags, "list", "--help").out();
        assertFlag(list, "TieredStopAtLevel", "1", "list: C1 only");
        assertFlag(list, "Tier3InvocationThreshold", "200", "list: C1 thresholds unchanged");
    }

    /** A checkout or installation reached through a symbolic link to a directory keeps its archive. */
    @Test
    void anInstallationRecordedThroughALinkedDirectory_stillMapsItsArchive() throws Exception {
        Path real = copyOfTheInstallation("real");
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), real);
        Files.writeString(real.resolve("backupkit.jsa.path"), alias.resolve("backupkit.jar") + "\n");
        Run v = run(real.resolve("backupkit"), Map.of("BACKUPKIT_JAVA_OPTS", "-Xlog:cds=info:stderr"), "--version");
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.err().contains("trying to map " + real.toRealPath().resolve("backupkit.jsa")), v.err());
    }

    /**
     * A backup seals every new blob with AES-GCM, whose fast paths (AES-NI counter mode, CLMUL GHASH) are
     * intrinsics that only C2 code calling them uses. The launcher raises C2's thresholds for data commands,
     * which left the provider's callers of those intrinsics (invoked once per 16 KiB piece) out of C2 for a
     * whole backup of the mixed benchmark database: AES-GCM in Java, ~9 ns per sealed byte instead of ~0.2
     * (docs/performance.md, "mixed"). So data commands get 1/100 of the thresholds for the provider's classes
     * that call those intrinsics, short commands do not; the JVM's note about the compile command must not
     * reach stdout, which holds the JSON document. (When C2 gets to it depends on the machine's load, so the
     * speed itself is measured by bench/, not here.)
     */
    @Test
    void dataCommands_compileTheCryptoProviderEarly_andKeepStdoutClean() throws Exception {
        Map<String, String> flags = Map.of("BACKUPKIT_JAVA_OPTS", "-XX:+PrintFlagsFinal");
        List<String> scaled = List.of("GHASH::*", "CounterMode::*", "GCTR::*", "AESCrypt::*", "GaloisCounterMode::implGCMCrypt").stream()
                .map(m -> "CompileThresholdScaling,com.sun.crypto.provider." + m + ",0.01").toList();
        for (String command : List.of("backup", "restore", "verify")) {
            Run r = run(LAUNCHER, flags, command, "--help");
            assertEquals(0, r.code(), r.toString());
            String commands = r.out().lines().filter(l -> l.contains("CompileCommand")).toList().toString();
            for (String s : scaled) {
                assertTrue(commands.contains(s), command + ": " + commands);
            }
            // the whole provider is not: its large per-blob methods cost C2 more than they saved ("crypto")
            assertFalse(commands.contains("com.sun.crypto.provider.*"), command + ": " + commands);
        }
        Run list = run(LAUNCHER, flags, "list", "--help");
        assertFalse(list.out().contains("com.sun.crypto.provider"), "short commands stay at C1: nothing to scale");

        Path db = dir.resolve("app.db");
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
             java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
            st.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 256) "
                    + "INSERT INTO t SELECT x, randomblob(16384) FROM n");
        }
        Map<String, String> pw = Map.of("BACKUPKIT_PASSWORD", "launcher-test-password");
        String repo = dir.resolve("repo").toString();
        assertEquals(0, run(LAUNCHER, pw, "init", "--repo", repo).code());
        Run backup = run(LAUNCHER, pw, "backup", "--repo", repo, "--db", "sqlite:" + db, "--json", "--progress", "none");
        assertEquals(0, backup.code(), backup.toString());
        assertTrue(new ObjectMapper().readTree(backup.out()).path("snapshot").path("id").isTextual(), backup.out());
        assertFalse(backup.out().contains("CompileCommand") || backup.err().contains("CompileCommand"), backup.toString());
    }

    /** --jobs (default: the CPU count) sets how many packs and read-aheads are in flight, so the heap grows with it. */
    @Test
    void theHeap_growsWithTheJobs() throws Exception {
        Map<String, String> settings = Map.of("BACKUPKIT_JAVA_OPTS", "-XshowSettings:vm");
        assertTrue(run(LAUNCHER, settings, "list", "--jobs=2").err().contains("Max. Heap Size: 128.00M"));
        assertTrue(run(LAUNCHER, settings, "list", "--jobs", "6").err().contains("Max. Heap Size: 256.00M"));
        assertTrue(run(LAUNCHER, settings, "list", "--jobs", "16").err().contains("Max. Heap Size: 576.00M"));
    }

    /**
     * A restore runs with 16 MiB less heap, all of it taken off the young generation: the old one, which
     * holds Argon2id's 64 MiB array while a password slot opens and the repository's index, keeps its size.
     */
    @Test
    void aRestore_hasASmallerYoungGeneration_andTheSameOldOne() throws Exception {
        Map<String, String> flags = Map.of("BACKUPKIT_JAVA_OPTS", "-XX:+PrintFlagsFinal");
        String restore = run(LAUNCHER, flags, "restore", "--help").out();
        assertFlag(restore, "MaxHeapSize", "117440512", "restore: 112 MiB heap");
        assertFlag(restore, "NewRatio", "3", "restore: a quarter of the heap young");
        String restore4 = run(LAUNCHER, flags, "restore", "--jobs", "4", "--help").out();
        assertFlag(restore4, "MaxHeapSize", "184549376", "restore --jobs 4: 176 MiB heap");
        String backup = run(LAUNCHER, flags, "backup", "--help").out();
        assertFlag(backup, "MaxHeapSize", "134217728", "backup: 128 MiB heap");
        assertFlag(backup, "NewRatio", "2", "backup: a third of the heap young");
        // old generation: (heap) * NewRatio / (NewRatio + 1): 112 * 3/4 = 84 MiB against 128 * 2/3 = 85.3 MiB
    }

    /**
     * restore_command: exit 1 means "not archived" and PostgreSQL ends recovery there, so a JVM that cannot
     * start (which exits 1 too) must not look like it; it stops recovery with a code above 125 instead.
     */
    @Test
    void walFetch_exitsOneOnlyForNotArchived_neverForAJvmThatCannotStart() throws Exception {
        String repo = dir.resolve("repo").toString();
        String key = dir.resolve("key").toString();
        assertEquals(0, run(LAUNCHER, Map.of(), "init", "--repo", repo, "--key-file", key).code());
        String[] fetch = {"wal-fetch", "--repo", repo, "--key-file", key, "--system-id", "1234", "000000010000000000000001",
                dir.resolve("dest").toString()};
        Run notArchived = run(LAUNCHER, Map.of(), fetch);
        assertEquals(1, notArchived.code(), notArchived.toString());
        Run noJvm = run(LAUNCHER, Map.of("BACKUPKIT_JAVA_OPTS", "-Xmx1k"), fetch);
        assertEquals(201, noJvm.code(), noJvm.toString());
        assertTrue(noJvm.err().contains("wal-fetch: the JVM failed (exit 1)"), noJvm.err());
        Run usage = run(LAUNCHER, Map.of(), "wal-fetch", "--repo", repo);
        assertEquals(202, usage.code(), usage.toString());
    }

    /**
     * PostgreSQL stops restore_command with SIGTERM when the server shuts down and tells that apart from a
     * failure only by the signal: the launcher dies of the signal that killed its JVM instead of exiting 201.
     */
    @Test
    void walFetch_killedBySigterm_endsBySigtermToo() throws Exception {
        String repo = dir.resolve("repo").toString();
        String key = dir.resolve("key").toString();
        assertEquals(0, run(LAUNCHER, Map.of(), "init", "--repo", repo, "--key-file", key).code());
        // a repository whose config is a FIFO: opening it blocks until the JVM is killed
        Path config = dir.resolve("repo").resolve("config");
        Files.delete(config);
        assertEquals(0, new ProcessBuilder("mkfifo", config.toString()).start().waitFor());
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "wal-fetch", "--repo", repo, "--key-file", key, "--system-id", "1",
                "000000010000000000000001", dir.resolve("dest").toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("out").toFile());
        pb.environment().remove("BACKUPKIT_JAVA_OPTS");
        // inherited JVM options (an IDE's or an APM agent) would change what the launcher does with its archive
        List.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS").forEach(pb.environment()::remove);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process launcher = pb.start();
        ProcessHandle jvm = null;
        for (int i = 0; i < 600 && jvm == null; i++) {
            // the JVM, not one of the launcher's short-lived helpers ($(nproc), $(dirname …)): on a loaded machine the
            // first child seen was one of those, the SIGTERM went to it, and the JVM stayed blocked on the FIFO
            jvm = launcher.toHandle().children().filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                    .findFirst().orElse(null);
            if (jvm == null) {
                Thread.sleep(100);
            }
        }
        assertTrue(jvm != null, "the launcher started no JVM");
        Thread.sleep(1000); // let it reach the FIFO; a SIGTERM earlier ends it the same way
        jvm.destroy(); // SIGTERM
        assertTrue(launcher.waitFor(2, TimeUnit.MINUTES), "launcher did not end");
        assertEquals(128 + 15, launcher.exitValue(), Files.readString(dir.resolve("out")));
    }

    @Test
    void aSymbolicLinkToTheLauncher_findsItsJar() throws Exception {
        Path link = dir.resolve("bin").resolve("backupkit");
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, LAUNCHER);
        Run v = run(link, Map.of(), "--version");
        assertEquals(0, v.code(), v.toString());
        assertTrue(v.out().startsWith("backupkit "), v.out());
    }
}
