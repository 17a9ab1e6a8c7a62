package io.backupkit.cli;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A CLI backup killed with SIGKILL (the OOM killer, {@code kill -9}, a node that goes away) while its COPY sessions
 * stream a large table: the server ends every session of it by itself (none is left idle in its transaction,
 * holding the exported snapshot back from vacuum), its pg_dump children end, no snapshot is listed, the repository
 * checks clean, and the next backup runs and restores exactly.
 */
class CliPostgresKillIT {
    private static final String PASSWORD = "kill-test-repository-password";

    static EphemeralPostgres pg;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().start();
        pg.createDatabase("big");
        // ~200 MB of COPY text: the data sessions stream for a while on any machine
        pg.execute("big", "CREATE TABLE wide (id bigint PRIMARY KEY, a text, b text); "
                + "INSERT INTO wide SELECT i, md5(i::text) || repeat('x', 60), repeat(md5((i * 7)::text), 2) FROM generate_series(1, 1500000) i; "
                + "CREATE TABLE small (id int GENERATED ALWAYS AS IDENTITY, note text); INSERT INTO small (note) SELECT 'n' || i FROM generate_series(1, 100) i");
        pg.execute("big", "VACUUM ANALYZE");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    static Map<String, String> env() {
        return Map.of("BACKUPKIT_PASSWORD", PASSWORD, "BACKUPKIT_DB_PASSWORD", pg.password());
    }

    static String url(String db) {
        return "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/" + db;
    }

    /** The sessions of backupkit on the server (the leader, COPY sessions, pg_dump and pg_dumpall): application names. */
    static List<String> ourSessions() {
        return pg.query("postgres", "SELECT application_name || ' ' || coalesce(state, '') FROM pg_stat_activity "
                + "WHERE application_name LIKE 'backupkit%' AND pid <> pg_backend_pid()").stream().map(r -> r.get(0)).toList();
    }

    @Test
    void aBackupKilledMidCopy_leavesNoSessionNoChildAndNoSnapshot_andTheNextOneRestoresExactly() throws Exception {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);

        Path out = Files.createTempFile(dir, "backup", ".out");
        ProcessBuilder pb = new ProcessBuilder(CliProcess.javaOfThisBuild().toString(), "-jar", CliProcess.JAR.toString(), "backup",
                "--repo", repo.toString(), "--db", url("big"), "--jobs", "2", "--progress", "none")
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("BACKUPKIT_") || k.startsWith("PG"));
        pb.environment().put("BACKUPKIT_CACHE_DIR", CliProcess.CACHE.toString());
        pb.environment().putAll(env());
        Process backup = pb.start();
        List<ProcessHandle> children;
        try {
            // wait until a COPY of the large table is streaming, then kill the JVM alone (its children are not signalled)
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (pg.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'backupkit-copy%' "
                    + "AND state = 'active' AND query LIKE 'COPY%wide%'").isEmpty()) {
                if (!backup.isAlive()) {
                    fail("the backup ended before its COPY of the large table was seen: " + Files.readString(out));
                }
                if (System.nanoTime() > deadline) {
                    fail("no COPY of the large table seen in 2 minutes; sessions: " + ourSessions());
                }
                Thread.sleep(5);
            }
            children = backup.descendants().toList();
            backup.destroyForcibly(); // SIGKILL
            assertTrue(backup.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, backup.exitValue(), "killed by SIGKILL");
        } finally {
            backup.destroyForcibly();
        }

        // the server notices the closed sockets: no session of the backup is left, least of all one idle in its transaction
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!ourSessions().isEmpty()) {
            if (System.nanoTime() > deadline) {
                fail("sessions of the killed backup still on the server after 30 s: " + ourSessions());
            }
            Thread.sleep(50);
        }
        for (ProcessHandle child : children) {
            child.onExit().get(30, TimeUnit.SECONDS);
        }

        // nothing half-written shows up as a snapshot, and the repository's structure is intact
        assertEquals(0, CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json().path("snapshots").size());
        CliProcess.run(env(), "check", "--repo", repo.toString()).expect(0);

        // the next backup is not blocked by the dead one's lock, and restores exactly
        String id = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("big"), "--jobs", "2", "--json")
                .expect(0).json().path("snapshot").path("id").asText();
        CliProcess.run(env(), "restore", "--repo", repo.toString(), id, "--target", url("big_copy"), "--json").expect(0);
        for (String table : List.of("wide", "small")) {
            String digest = "SELECT count(*) || ':' || md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM " + table + " t";
            assertEquals(pg.queryForString("big", digest), pg.queryForString("big_copy", digest), table);
        }
        assertEquals("101", pg.queryForString("big_copy", "INSERT INTO small (note) VALUES ('after') RETURNING id"),
                "the identity column goes on where the original's was");
    }
}
