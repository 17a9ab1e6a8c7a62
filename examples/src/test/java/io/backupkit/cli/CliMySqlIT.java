package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every command through the real jar against a throwaway MariaDB: backup of a database and of the
 * whole server, list, show, restore (new, existing refused, replaced), comprehensive verify,
 * binlog-receive and binlog-list, restore to a point in time; no password in any output.
 */
class CliMySqlIT {
    private static final String PASSWORD = "it-repository-password";
    static EphemeralMariaDb db;
    @TempDir
    static Path dir;
    static Path repo;
    static String firstSnapshot;
    static final List<CliProcess.Result> RESULTS = new ArrayList<>();

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        env.put("BACKUPKIT_DB_PASSWORD", db.password());
        return env;
    }

    static CliProcess.Result run(String... args) {
        CliProcess.Result r = CliProcess.run(env(), args);
        RESULTS.add(r);
        return r;
    }

    static String url(String database) {
        return "mariadb://root@127.0.0.1:" + db.port() + "/" + (database == null ? "" : database);
    }

    static String checksums(String database) {
        StringBuilder sb = new StringBuilder();
        for (List<String> t : db.query(database, "SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")) {
            sb.append(t.get(0)).append('=').append(db.query(database, "CHECKSUM TABLE `" + t.get(0) + "` EXTENDED").get(0).get(1)).append(';');
        }
        return sb.toString();
    }

    @BeforeAll
    static void startServerAndBackUpOnce() {
        db = EphemeralMariaDb.start();
        db.createDatabase("shop");
        db.execute("shop", """
                CREATE TABLE customers (id int PRIMARY KEY, name varchar(50)) ENGINE=InnoDB;
                CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount decimal(10,2), FOREIGN KEY (customer_id) REFERENCES customers (id));
                INSERT INTO customers SELECT seq, concat('Kunde ', seq, ' ✓') FROM seq_1_to_500;
                INSERT INTO orders SELECT seq, 1 + seq % 500, seq / 4 FROM seq_1_to_3000;
                CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 500;
                """);
        repo = dir.resolve("repo");
        run("init", "--repo", repo.toString()).expect(0);
        firstSnapshot = run("backup", "--repo", repo.toString(), "--db", url("shop"), "--json").expect(0).json()
                .path("snapshot").path("id").asText();
    }

    @AfterAll
    static void stopServer() {
        try {
            for (CliProcess.Result r : RESULTS) {
                assertFalse(r.stdout().contains(db.password()) || r.stderr().contains(db.password()), "the database password in " + r);
                assertFalse(r.stdout().contains(PASSWORD) || r.stderr().contains(PASSWORD), "the repository password in " + r);
            }
        } finally {
            if (db != null) {
                db.close();
            }
        }
    }

    @Test
    void versionListsTheEngines() {
        CliProcess.Result r = run("--version").expect(0);
        assertTrue(r.stdout().contains("database engines: mysql, postgresql"), r.toString());
    }

    @Test
    void listAndShow_nameTheEngineAndTables() {
        CliProcess.Result list = run("list", "--repo", repo.toString()).expect(0);
        assertTrue(list.stdout().contains("127.0.0.1:" + db.port() + "/shop"), list.toString());
        CliProcess.Result show = run("show", "--repo", repo.toString(), firstSnapshot).expect(0);
        assertTrue(show.stdout().contains("engine          mysql") || show.stdout().matches("(?s).*engine\\s+mysql.*"), show.toString());
        assertTrue(show.stdout().contains("shop.orders") && show.stdout().contains("3,000"), show.toString());
        assertTrue(show.stdout().contains("data/shop/orders"), show.toString());
        JsonNode json = run("show", "--repo", repo.toString(), firstSnapshot, "--json").expect(0).json();
        assertEquals("mysql", json.path("snapshot").path("engine").asText());
    }

    @Test
    void restore_newThenRefusedThenReplaced() {
        try {
            run("restore", "--repo", repo.toString(), firstSnapshot, "--target", url("shop_copy")).expect(0);
            assertEquals(checksums("shop"), checksums("shop_copy"));
            CliProcess.Result refused = run("restore", "--repo", repo.toString(), firstSnapshot, "--target", url("shop_copy"));
            assertEquals(2, refused.exitCode(), refused.toString());
            assertTrue(refused.stderr().contains("database shop_copy on 127.0.0.1:" + db.port() + " already exists"), refused.toString());
            assertTrue(refused.stderr().contains("--drop-existing"), refused.toString());
            db.execute("shop_copy", "DELETE FROM orders");
            run("restore", "--repo", repo.toString(), firstSnapshot, "--target", url("shop_copy"), "--drop-existing", "--yes").expect(0);
            assertEquals(checksums("shop"), checksums("shop_copy"));
        } finally {
            db.dropDatabase("shop_copy");
        }
    }

    @Test
    void verifyComprehensive_restoresIntoAScratchDatabase() {
        CliProcess.Result r = run("verify", "--repo", repo.toString(), firstSnapshot, "--level", "comprehensive", "--scratch", url(null)).expect(0);
        assertTrue(r.stdout().contains("verification passed"), r.toString());
        assertTrue(r.stdout().contains("table shop.orders: 3000 rows, same bytes as the snapshot"), r.toString());
        assertEquals("0", db.queryForString(null, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'backupkit%'"));
    }

    @Test
    void wholeServerBackup() {
        JsonNode b = run("backup", "--repo", repo.toString(), "--db", url(null), "--jobs", "2", "--json").expect(0).json();
        assertEquals("root@127.0.0.1:" + db.port() + " (all databases)", b.path("snapshot").path("source").asText(), b.toString());
        JsonNode shown = run("show", "--repo", repo.toString(), b.path("snapshot").path("id").asText(), "--json").expect(0).json();
        assertEquals("server", shown.path("snapshot").path("metadata").path("scope").asText(), shown.toString());
    }

    @Test
    void binlogReceive_thenRestoreToATime() throws Exception {
        Path pitrRepo = dir.resolve("pitr-repo");
        run("init", "--repo", pitrRepo.toString()).expect(0);
        db.createDatabase("ledger");
        try {
            db.execute("ledger", "CREATE TABLE entries (id int PRIMARY KEY, what varchar(20)); INSERT INTO entries VALUES (1, 'opening')");
            run("backup", "--repo", pitrRepo.toString(), "--db", url("ledger")).expect(0);
            db.execute("ledger", "INSERT INTO entries VALUES (2, 'kept')");
            Instant boundary = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 1);
            while (Instant.now().isBefore(boundary)) {
                Thread.sleep(20);
            }
            db.execute("ledger", "INSERT INTO entries VALUES (3, 'mistake')");
            CliProcess.Result received = run("binlog-receive", "--repo", pitrRepo.toString(), "--db", url(null), "--once").expect(0);
            assertTrue(received.stdout().startsWith("done: binary logs of source server-1 stored up to binlog."), received.toString());
            CliProcess.Result list = run("binlog-list", "--repo", pitrRepo.toString()).expect(0);
            assertTrue(list.stdout().startsWith("source server-1: "), list.toString());

            run("restore", "--repo", pitrRepo.toString(), "--target", url("ledger_then"), "--to-time", boundary.toString()).expect(0);
            assertEquals(List.of(List.of("opening"), List.of("kept")), db.query("ledger_then", "SELECT what FROM entries ORDER BY id"));

            CliProcess.Result wrongEngine = run("restore", "--repo", pitrRepo.toString(), "--target", "postgresql://localhost/x",
                    "--to-time", boundary.toString());
            assertEquals(2, wrongEngine.exitCode(), wrongEngine.toString());
            assertTrue(wrongEngine.stderr().contains("replay MySQL/MariaDB binary logs"), wrongEngine.toString());
            CliProcess.Result badTime = run("restore", "--repo", pitrRepo.toString(), "--target", url("x"), "--to-time", "yesterday");
            assertEquals(2, badTime.exitCode(), badTime.toString());
            assertTrue(badTime.stderr().contains("--to-time needs a time with its zone"), badTime.toString());
        } finally {
            db.dropDatabase("ledger");
            db.dropDatabase("ledger_then");
        }
    }
}
