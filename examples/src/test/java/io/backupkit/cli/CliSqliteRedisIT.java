package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.redis.testing.EphemeralRedis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command (backup, list, show, restore, verify) through the real jar for sqlite:PATH and redis:// URLs. */
class CliSqliteRedisIT {
    private static final String PASSWORD = "cli engines repository password";

    @TempDir
    Path dir;

    private static Map<String, String> env(String dbPassword) {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        if (dbPassword != null) {
            env.put("BACKUPKIT_DB_PASSWORD", dbPassword);
        }
        return env;
    }

    @Test
    void version_listsTheEngines() {
        String out = CliProcess.run(env(null), "--version").expect(0).stdout();
        assertTrue(out.contains("database engines: ") && out.contains("sqlite") && out.contains("redis") && out.contains("postgresql"), out);
    }

    @Test
    void sqlite_backupListShowRestoreVerify_withARelativePath() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + work.resolve("app.db")); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
            s.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) INSERT INTO t SELECT i, hex(randomblob(40)) FROM n");
        }
        String repo = dir.resolve("repo").toString();
        CliProcess.run(env(null), "init", "--repo", repo).expect(0);
        CliProcess.Result backup = CliProcess.run(env(null), work, "backup", "--repo", repo, "--db", "sqlite:app.db").expect(0);
        assertTrue(backup.stdout().contains("(sqlite sqlite:" + work.resolve("app.db") + ")"), backup.toString());

        JsonNode list = CliProcess.run(env(null), "list", "--repo", repo, "--json").expect(0).json();
        assertEquals("sqlite", list.path("snapshots").get(0).path("engine").asText(), list.toString());
        CliProcess.Result show = CliProcess.run(env(null), "show", "--repo", repo, "latest").expect(0);
        assertTrue(show.stdout().contains("pageSize") && show.stdout().contains("database"), show.toString());
        assertTrue(show.stdout().contains("5,000"), "row count of table t: " + show);

        CliProcess.run(env(null), work, "restore", "--repo", repo, "--target", "sqlite:copy.db").expect(0);
        assertEquals(5000, count(work.resolve("copy.db")));

        CliProcess.Result again = CliProcess.run(env(null), work, "restore", "--repo", repo, "--target", "sqlite:copy.db", "--json");
        assertEquals(2, again.exitCode(), again.toString());
        assertTrue(again.json().path("error").path("message").asText().contains("SQLite file " + work.resolve("copy.db") + " already exists; refusing to restore over it"), again.toString());
        CliProcess.run(env(null), work, "restore", "--repo", repo, "--target", "sqlite:copy.db", "--drop-existing", "--yes").expect(0);

        Files.createDirectories(dir.resolve("scratch"));
        CliProcess.Result verify = CliProcess.run(env(null), "verify", "--repo", repo, "--level", "comprehensive", "--scratch",
                "sqlite:" + dir.resolve("scratch")).expect(0);
        assertTrue(verify.stdout().contains("PASSED  PRAGMA integrity_check: ok"), verify.toString());
        assertTrue(verify.stdout().contains("verification passed"), verify.toString());

        CliProcess.Result missing = CliProcess.run(env(null), "backup", "--repo", repo, "--db", "sqlite:" + dir.resolve("nope.db"), "--json");
        assertEquals(2, missing.exitCode(), missing.toString());
        assertTrue(missing.json().path("error").path("message").asText().contains("does not exist"), missing.toString());
    }

    @Test
    void redis_backupListShowRestoreVerify_withAnAclUser_andThePasswordNeverShown() {
        String repo = dir.resolve("repo").toString();
        CliProcess.run(env(null), "init", "--repo", repo).expect(0);
        try (EphemeralRedis source = EphemeralRedis.builder().aclUser("backup", "source-secret-pw").start();
             EphemeralRedis target = EphemeralRedis.builder().password("target-secret-pw").start()) {
            source.command("SET", "greeting", "hello");
            source.command("HSET", "h", "a", "1", "b", "2");
            source.command("RPUSH", "l", "x", "y");
            source.command("MOVE", "l", "5"); // each command() is its own connection: move the list into database 5
            CliProcess.Result backup = CliProcess.run(env("source-secret-pw"), "backup", "--repo", repo, "--db", source.url()).expect(0);
            assertTrue(backup.stdout().contains("(redis " + source.url() + ")"), backup.toString());
            CliProcess.Result show = CliProcess.run(env(null), "show", "--repo", repo, "latest").expect(0);
            assertTrue(show.stdout().contains("rdbVersion") && show.stdout().contains("dump.rdb"), show.toString());

            CliProcess.Result restored = CliProcess.run(env("target-secret-pw"), "restore", "--repo", repo, "--target", target.url()).expect(0);
            assertEquals("hello", target.command("GET", "greeting"));
            CliProcess.Result refused = CliProcess.run(env("target-secret-pw"), "restore", "--repo", repo, "--target", target.url(), "--json");
            assertEquals(2, refused.exitCode(), refused.toString());
            assertTrue(refused.json().path("error").path("message").asText().contains("Redis at " + target.url() + " already exists; refusing to restore over it"), refused.toString());

            CliProcess.Result wrong = CliProcess.run(env("wrong-pw"), "backup", "--repo", repo, "--db", source.url(), "--json");
            assertEquals(2, wrong.exitCode(), wrong.toString());
            assertTrue(wrong.json().path("error").path("message").asText().contains("refused the login of user backup"), wrong.toString());

            try (EphemeralRedis scratch = EphemeralRedis.start()) {
                CliProcess.Result verify = CliProcess.run(env(null), "verify", "--repo", repo, "--level", "comprehensive", "--scratch",
                        scratch.url()).expect(0);
                assertTrue(verify.stdout().contains("content digest db5"), verify.toString());
            }
            for (CliProcess.Result r : new CliProcess.Result[] {backup, show, restored, refused, wrong}) {
                assertFalse(r.stdout().contains("secret-pw") || r.stderr().contains("secret-pw"), r.toString());
            }
        }
    }

    private static long count(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM t")) {
            r.next();
            return r.getLong(1);
        }
    }
}
