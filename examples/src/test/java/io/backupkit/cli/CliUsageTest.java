package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Option parsing and usage errors, run in-process; commands that reach a repository are covered by the *IT tests. */
class CliUsageTest {
    private String stdout;
    private String stderr;

    private int run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BackupkitCli.execute(args, out, err, env);
        stdout = out.toString(StandardCharsets.UTF_8);
        stderr = err.toString(StandardCharsets.UTF_8);
        return code;
    }

    private int run(String... args) {
        return run(Map.of(), args);
    }

    @Test
    void help_listsEveryCommand_exit0() {
        assertEquals(0, run("--help"));
        for (String c : new String[] {"init", "backup", "list", "show", "restore", "verify", "key", "demo"}) {
            assertTrue(stdout.contains("  " + c + " "), c + " missing from\n" + stdout);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"init", "backup", "list", "show", "restore", "verify", "key list", "key add", "key remove", "demo"})
    void everyCommand_hasHelp_andJsonOption(String command) {
        String[] args = (command + " --help").split(" ");
        assertEquals(0, run(args), stderr);
        assertTrue(stdout.startsWith("Usage: backupkit " + command), stdout);
        assertTrue(stdout.contains("--json"), command + " has --json");
    }

    /**
     * picocli formats help texts with String.format: an unescaped '%' ("N%", "10%") makes it print a warning on the
     * JVM's stderr for every such line, around the help a user asked for.
     */
    @Test
    void everyCommandsHelp_rendersWithoutPicocliWarnings() {
        List<String> commands = new ArrayList<>();
        for (Class<?> c : BackupkitCli.SUBCOMMANDS) {
            addCommandNames(c, "", commands);
        }
        assertTrue(commands.contains("check") && commands.contains("key add"), commands.toString());
        PrintStream jvmErr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
        try {
            for (String command : commands) {
                assertEquals(0, run((command + " --help").split(" ")), command + ": " + stderr);
                assertTrue(stdout.startsWith("Usage: backupkit " + command), stdout);
                String printed = warnings.toString(StandardCharsets.UTF_8);
                assertFalse(printed.contains("picocli WARN"), command + " --help: " + printed);
            }
        } finally {
            System.setErr(jvmErr);
        }
    }

    private static void addCommandNames(Class<?> c, String parent, List<String> into) {
        picocli.CommandLine.Command command = c.getAnnotation(picocli.CommandLine.Command.class);
        if (command == null || command.name().equals("help")) {
            return;
        }
        String name = parent + command.name();
        into.add(name);
        for (Class<?> sub : command.subcommands()) {
            addCommandNames(sub, name + " ", into);
        }
    }

    @Test
    void noCommand_isUsageError() {
        assertEquals(2, run());
        assertTrue(stderr.contains("missing command"), stderr);
    }

    @Test
    void unknownOption_isUsageError_withHint() {
        assertEquals(2, run("list", "--frobnicate"));
        assertTrue(stderr.contains("Unknown option: '--frobnicate'"), stderr);
        assertTrue(stderr.contains("Try 'backupkit list --help'"), stderr);
        assertEquals("", stdout, "nothing on stdout without --json");
    }

    @Test
    void usageError_withJson_printsOneErrorDocument() throws Exception {
        assertEquals(2, run("backup", "--repo", "r", "--json"));
        JsonNode doc = Json.MAPPER.readTree(stdout);
        assertEquals(2, doc.path("error").path("exitCode").asInt());
        assertTrue(doc.path("error").path("message").asText().contains("--db"), stdout);
    }

    @Test
    void missingRepository_isUsageError() {
        assertEquals(2, run("list"));
        assertTrue(stderr.contains("no repository given: use --repo REPO or set BACKUPKIT_REPO"), stderr);
    }

    @Test
    void init_withoutKey_isRefused_andSaysHowToGiveOne() {
        assertEquals(2, run("init", "--repo", "/tmp/never-created"));
        assertTrue(stderr.contains("set BACKUPKIT_PASSWORD"), stderr);
        assertFalse(Files.exists(Path.of("/tmp/never-created")));
    }

    @Test
    void init_unencryptedWithPassword_isContradictory() {
        assertEquals(2, run(Map.of("BACKUPKIT_PASSWORD", "s3cret-pw"), "init", "--repo", "/tmp/never-created", "--unencrypted"));
        assertFalse(stderr.contains("s3cret-pw"));
    }

    @Test
    void passwordFile_missing_isConfigurationError(@TempDir Path dir) {
        assertEquals(2, run("list", "--repo", dir.toString(), "--password-file", dir.resolve("nope").toString()));
        assertTrue(stderr.contains("password file " + dir.resolve("nope") + " does not exist"), stderr);
    }

    @Test
    void restore_schemaOnlyAndDataOnly_exclude() {
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--schema-only", "--data-only"));
        assertTrue(stderr.contains("--schema-only and --data-only exclude each other"), stderr);
    }

    @Test
    void restore_dropExistingWithoutTerminal_needsYes() {
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/shop", "--drop-existing"));
        assertTrue(stderr.contains("add --yes to confirm"), stderr);
    }

    @Test
    void restore_needsExactlyOneOfTargetAndPgdata() {
        assertEquals(2, run("restore", "--repo", "r"));
        assertTrue(stderr.contains("give --target URL (a database) or --pgdata DIR (a data directory for a physical base backup)"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--pgdata", "/tmp/x"));
        assertTrue(stderr.contains("give --target URL (a database) or --pgdata DIR"), stderr);
    }

    @Test
    void restore_pointInTimeOptions_needPgdata_andExcludeEachOther() {
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--to-time", "2026-11-22T13:32:00Z"));
        assertTrue(stderr.contains("--to-time, --to-position, --to-latest and --binlog-source with --target replay MySQL/MariaDB binary "
                + "logs; postgresql://localhost/x is a postgresql database; a PostgreSQL cluster is recovered to a point in time from a "
                + "physical base backup (backup --physical) with --pgdata DIR --to-time TIME"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--to-lsn", "0/3000000",
                "--target-action", "promote"));
        assertTrue(stderr.contains("--to-lsn, --target-action apply to --pgdata restores of PostgreSQL physical base backups, "
                + "not to a --target database"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--to-lsn", "0/3000000", "--to-immediate"));
        assertTrue(stderr.contains("give at most one of --to-time, --to-lsn, --to-xid, --to-name, --to-immediate, --to-latest"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--to-time", "2026-11-22T13:32:00Z", "--to-latest"));
        assertTrue(stderr.contains("give at most one of --to-time, --to-lsn, --to-xid, --to-name, --to-immediate, --to-latest"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--drop-existing"));
        assertTrue(stderr.contains("a data directory is restored whole, and only into an empty one"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--to-time", "yesterday"));
        assertTrue(stderr.contains("'yesterday' is not a time with an offset"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--target-action", "explode"));
        assertTrue(stderr.contains("pause, promote, shutdown") || stderr.contains("PAUSE, PROMOTE, SHUTDOWN"), stderr);
    }

    @Test
    void restore_eachEnginesPointInTimeOptions_onlyForItsTargets() {
        // MySQL's own options are refused for a data directory, with what PostgreSQL takes instead
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--to-position", "binlog.000042:1337"));
        assertTrue(stderr.contains("--to-position and --binlog-source replay MySQL/MariaDB binary logs into a --target database; a --pgdata "
                + "restore replays PostgreSQL WAL: give --to-time, --to-lsn, --to-xid, --to-name, --to-immediate or --to-latest (default)"),
                stderr);
        assertEquals(2, run("restore", "--repo", "r", "--pgdata", "/tmp/x", "--binlog-source", "server-1"));
        assertTrue(stderr.contains("--to-position and --binlog-source replay MySQL/MariaDB binary logs"), stderr);
        // PostgreSQL's physical options are refused for a MySQL target, with what MySQL takes instead
        assertEquals(2, run("restore", "--repo", "r", "--target", "mysql://root@localhost/shop", "--to-xid", "1234"));
        assertTrue(stderr.contains("--to-xid applies to --pgdata restores of PostgreSQL physical base backups, not to a --target database; "
                + "a MySQL/MariaDB point in time is given with --to-time, --to-position or --to-latest"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--target", "mariadb://root@localhost/shop", "--to-time", "2026-11-30T09:15:00Z",
                "--to-latest"));
        assertTrue(stderr.contains("give at most one of --to-time, --to-position, --to-latest"), stderr);
        assertEquals(2, run("restore", "--repo", "r", "--target", "mysql://root@localhost/shop", "--to-time", "yesterday"));
        assertTrue(stderr.contains("--to-time needs a time with its zone"), stderr);
        // neither engine's: a SQLite file has no log to replay
        assertEquals(2, run("restore", "--repo", "r", "--target", "sqlite:/tmp/x.db", "--to-latest"));
        assertTrue(stderr.contains("replay MySQL/MariaDB binary logs; sqlite:/tmp/x.db is a sqlite database"), stderr);
        assertFalse(stderr.contains("--pgdata DIR --to-time"), stderr);
    }

    @Test
    void restore_terminateSessionsWithoutDropExisting_isUsageError() {
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/shop", "--terminate-sessions"));
    }

    @Test
    void restore_badJobs_isUsageError() {
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--jobs", "0"));
        assertEquals(2, run("restore", "--repo", "r", "--target", "postgresql://localhost/x", "--jobs", "many"));
    }

    /** A repository holding one logical (non-physical) snapshot, opened with {@code BACKUPKIT_PASSWORD=pw}. */
    private static Path logicalRepository(Path dir) {
        Path repo = dir.resolve("repo");
        try (io.backupkit.Repository r = io.backupkit.Repository.builder().location(repo.toString())
                .keyProvider(io.backupkit.KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create()) {
            io.backupkit.BackupManager.builder().repository(r).source(new io.backupkit.testkit.GeneratedSource()
                    .stream("s", () -> new java.io.ByteArrayInputStream(new byte[100]))).build().backup();
        }
        return repo;
    }

    @Test
    void verify_comprehensiveOfALogicalSnapshotNeedsScratch_andAllExcludesSnapshot(@TempDir Path dir) {
        Path repo = logicalRepository(dir);
        assertEquals(2, run(Map.of("BACKUPKIT_PASSWORD", "pw"), "verify", "--repo", repo.toString(), "--level", "comprehensive"));
        assertTrue(stderr.contains("--level comprehensive restores a logical snapshot into a scratch database: give --scratch URL"), stderr);
        assertEquals(2, run("verify", "--repo", "r", "--all", "latest"));
        assertEquals(2, run("verify", "--repo", "r", "--level", "paranoid"));
        assertTrue(stderr.contains("quick, standard, comprehensive"), stderr);
    }

    @Test
    void levelNames_areCaseInsensitive(@TempDir Path dir) {
        assertEquals(2, run(Map.of("BACKUPKIT_PASSWORD", "pw"), "verify", "--repo", logicalRepository(dir).toString(), "--level", "COMPREHENSIVE"));
        assertTrue(stderr.contains("give --scratch URL"), "parsed as comprehensive: " + stderr);
    }

    @Test
    void unknownDatabaseScheme_isUsageError_namingTheUrlWithoutPassword() {
        // mysql:// has an engine now (backup-mysql); oracle:// has none
        assertEquals(2, run("backup", "--repo", "r", "--db", "oracle://root:hunter2@localhost/shop"));
        assertTrue(stderr.contains("no database engine handles 'oracle://root:***@localhost/shop'"), stderr);
        assertTrue(stderr.contains("mysql://user@host:port/dbname"), stderr);
        assertFalse(stderr.contains("hunter2"));
    }

    @Test
    void key_withoutSubcommand_isUsageError() {
        assertEquals(2, run("key"));
        assertTrue(stderr.contains("list, add or remove"), stderr);
    }

    @ParameterizedTest
    @ValueSource(strings = {"wal-receive --db postgresql://repl@127.0.0.1:1/postgres --slot s",
            "binlog-receive --db mariadb://repl@127.0.0.1:1"})
    void receivers_refuseEngineOptions_insteadOfDroppingThem(String command, @TempDir Path dir) {
        // -o sslmode=… silently dropped would connect without the TLS the user asked for
        String[] args = (command + " --repo " + dir.resolve("absent") + " -o sslmode=verify-full").split(" ");
        assertEquals(2, run(args));
        String name = command.substring(0, command.indexOf(' '));
        assertTrue(stderr.contains("-o/--engine-option does not apply to " + name + " (given: sslmode)"), stderr);
        assertFalse(stderr.contains("verify-full"), "values are not echoed: " + stderr);
    }

    @Test
    void version_printsName() {
        assertEquals(0, run("--version"));
        assertTrue(stdout.startsWith("backupkit "), stdout);
    }
}
