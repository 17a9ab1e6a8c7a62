package io.backupkit.cli;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The jar as a new user runs it on a current JDK (Temurin 25; {@code -Dbackupkit.test.newJdk=DIR}
 * for another JDK 22+): from JDK 22 {@code System.console()} exists also when input and output are
 * redirected, and loading native code (lz4, zstd) prints warnings unless the jar declares it.
 */
class CliNewerJdkIT {
    private static final Path JDK = Path.of(System.getProperty("backupkit.test.newJdk", "/usr/lib/jvm/temurin-25-jdk-amd64"));
    private static final String PASSWORD = "newer-jdk-repository-password";

    @TempDir
    static Path dir;

    private static Path java() {
        Path java = JDK.resolve("bin").resolve("java");
        assumeTrue(Files.isExecutable(java), "a JDK 22+ at " + JDK + " (set -Dbackupkit.test.newJdk)");
        return java;
    }

    private static Path encryptedRepository(String name) {
        Path repo = dir.resolve(name);
        CliProcess.runWith(java(), Map.of("BACKUPKIT_PASSWORD", PASSWORD), null, "init", "--repo", repo.toString()).expect(0);
        return repo;
    }

    @Test
    void redirected_isNotATerminal_soNothingIsAskedAndNoPromptReachesStdout() {
        Path repo = encryptedRepository("redirected");
        CliProcess.Result list = CliProcess.runWith(java(), Map.of(), null, "list", "--repo", repo.toString()).expect(2);
        assertFalse(list.stdout().contains("password"), "no prompt in redirected output: " + list);
        assertTrue(list.stderr().contains("is encrypted: set BACKUPKIT_PASSWORD"), list.toString());

        CliProcess.Result restore = CliProcess.runWith(java(), Map.of("BACKUPKIT_PASSWORD", PASSWORD), null, "restore", "--repo",
                repo.toString(), "--target", "postgresql://127.0.0.1:1/nowhere", "--drop-existing").expect(2);
        assertTrue(restore.stderr().contains("there is no terminal to ask"), "asked nobody: " + restore);
        assertFalse(restore.stdout().contains("Type 'yes'"), restore.toString());
    }

    @Test
    void inAPseudoTerminal_isATerminal_andAsksForThePassword() {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script is installed");
        Path repo = encryptedRepository("terminal");
        CliProcess.Result list = CliProcess.runInPseudoTerminalAnswering(java(), Map.of(), List.of("Repository password: ", PASSWORD),
                "list", "--repo", repo.toString()).expect(0);
        assertTrue(list.stdout().contains("no snapshots"), list.toString());
        assertFalse(list.stdout().contains(PASSWORD), "not echoed: " + list);
    }

    @Test
    void aWholeSession_printsNoWarnings() {
        Path java = java();
        try (EphemeralPostgres pg = EphemeralPostgres.builder().start()) {
            pg.createDatabase("shop");
            pg.execute("shop", DemoCommand.sampleSchemaAndData(500));
            Map<String, String> env = new HashMap<>();
            env.put("BACKUPKIT_PASSWORD", PASSWORD);
            env.put("BACKUPKIT_DB_PASSWORD", pg.password());
            String db = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/";
            List<CliProcess.Result> runs = new ArrayList<>();
            for (String codec : List.of("lz4", "zstd")) {
                String repo = dir.resolve("native-" + codec).toString();
                runs.add(CliProcess.runWith(java, env, null, "init", "--repo", repo, "--compression", codec).expect(0));
                runs.add(CliProcess.runWith(java, env, null, "backup", "--repo", repo, "--db", db + "shop").expect(0));
                runs.add(CliProcess.runWith(java, env, null, "verify", "--repo", repo).expect(0));
                runs.add(CliProcess.runWith(java, env, null, "restore", "--repo", repo, "--target", db + "copy_" + codec).expect(0));
            }
            runs.add(CliProcess.runWith(java, env, null, "--version").expect(0));
            assertTrue(runs.get(runs.size() - 1).stdout().contains("Java 2"), runs.get(runs.size() - 1).toString());
            for (CliProcess.Result r : runs) {
                List<String> warnings = r.stderr().lines().filter(l -> l.startsWith("WARNING")).toList();
                assertEquals(List.of(), warnings, "a user sees no JVM warnings: " + r);
            }
            assertEquals(pg.queryForString("shop", "SELECT count(*) FROM orders"), pg.queryForString("copy_lz4", "SELECT count(*) FROM orders"));
        }
    }
}
