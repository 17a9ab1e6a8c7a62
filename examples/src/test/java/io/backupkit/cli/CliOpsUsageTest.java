package io.backupkit.cli;

import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** schedule, metrics and report: help, usage errors (cron field at fault, six fields), and metrics/report on an empty repository. */
class CliOpsUsageTest {
    @TempDir
    Path dir;
    private String stdout;
    private String stderr;

    private int run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BackupkitCli.execute(args, out, err, Map.of());
        stdout = out.toString(StandardCharsets.UTF_8);
        stderr = err.toString(StandardCharsets.UTF_8);
        return code;
    }

    @Test
    void helpListsTheOperationsCommands() {
        assertEquals(0, run("--help"));
        for (String c : new String[] {"schedule", "metrics", "report"}) {
            assertTrue(stdout.contains("  " + c + " "), c + " missing from\n" + stdout);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"schedule", "metrics", "report"})
    void everyOperationsCommandHasHelp(String command) {
        assertEquals(0, run(command, "--help"), stderr);
        assertTrue(stdout.startsWith("Usage: backupkit " + command), stdout);
        assertTrue(stdout.contains("--json"), command + " has --json");
    }

    @Test
    void scheduleHelpSaysLoudlyThatCronIsFiveFieldUnixCron() {
        assertEquals(0, run("schedule", "--help"));
        assertTrue(stdout.contains("CRON IS STANDARD 5-FIELD UNIX CRON"), stdout);
    }

    @Test
    void anInvalidCronExpressionNamesTheFieldAndExits2() {
        assertEquals(2, run("schedule", "--repo", dir.toString(), "--db", "postgresql://u@127.0.0.1:1/db", "--cron", "0 3 * 13 *"));
        assertTrue(stderr.contains("field 4 (month) '13' is invalid"), stderr);
        assertEquals(2, run("schedule", "--repo", dir.toString(), "--db", "postgresql://u@127.0.0.1:1/db", "--cron", "0 0 3 * * *"));
        assertTrue(stderr.contains("standard 5-field Unix cron") && stderr.contains("seconds"), stderr);
    }

    @Test
    void otherScheduleUsageErrorsExit2() {
        String[] base = {"schedule", "--repo", dir.toString(), "--db", "postgresql://u@127.0.0.1:1/db", "--cron", "@daily"};
        assertEquals(2, run(concat(base, "--zone", "Mars/Olympus")));
        assertTrue(stderr.contains("not a time zone"), stderr);
        assertEquals(2, run(concat(base, "--verify", "comprehensive")));
        assertTrue(stderr.contains("--scratch"), stderr);
        assertEquals(2, run(concat(base, "--rto-target", "30m")));
        assertTrue(stderr.contains("--drill-cron"), stderr);
        assertEquals(2, run(concat(base, "--retry-delay", "soon")));
        assertTrue(stderr.contains("not a duration"), stderr);
        assertEquals(2, run(concat(base, "--notify-webhook", "ftp://example.com/x")));
        assertTrue(stderr.contains("http:// or https://"), stderr);
        assertEquals(2, run("schedule", "--repo", dir.toString(), "--db", "postgresql://u@127.0.0.1:1/db"));
        assertTrue(stderr.contains("--cron"), stderr);
    }

    @Test
    void metricsAndReportWorkOnAnEmptyRepository() throws Exception {
        Path key = KeyProviders.generateKeyFile(dir.resolve("key"));
        Repository.builder().location(dir.resolve("repo").toString()).keyProvider(KeyProviders.keyFile(key)).create().close();
        assertEquals(0, run("metrics", "--repo", dir.resolve("repo").toString(), "--key-file", key.toString()), stderr);
        assertTrue(stdout.contains("backupkit_repo_status 2.0"), stdout);
        Path prom = dir.resolve("backupkit.prom");
        assertEquals(0, run("metrics", "--repo", dir.resolve("repo").toString(), "--key-file", key.toString(), "--output", prom.toString()));
        assertTrue(Files.readString(prom).contains("backupkit_repo_status 2.0"));
        Path html = dir.resolve("r.html");
        assertEquals(0, run("report", "--repo", dir.resolve("repo").toString(), "--key-file", key.toString(), "--output", html.toString(),
                "--json"), stderr);
        assertTrue(stdout.contains("\"snapshots\" : 0") && stdout.contains("no snapshot"), stdout);
        assertTrue(Files.readString(html).startsWith("<!DOCTYPE html>"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
