package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every database command through the real jar against a throwaway PostgreSQL: backup, list, show,
 * restore (new, existing, dropped, selective, dry run), verify at every level, corruption, missing
 * database, progress output.
 */
class CliPostgresIT {
    private static final String PASSWORD = "it-repository-password";
    private static final List<String> TABLES = List.of("public.customers", "public.products", "public.orders", "public.order_items");

    static EphemeralPostgres pg;
    @TempDir
    static Path dir;
    static Path repo;
    static String firstSnapshot;

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        env.put("BACKUPKIT_DB_PASSWORD", pg.password());
        return env;
    }

    static String url(String db) {
        return "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/" + db;
    }

    @BeforeAll
    static void startServerAndBackUpOnce() {
        pg = EphemeralPostgres.builder().start();
        pg.createDatabase("shop");
        pg.execute("shop", DemoCommand.sampleSchemaAndData(3000));
        repo = dir.resolve("repo");
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
        firstSnapshot = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--tag", "run=first", "--json")
                .expect(0).json().path("snapshot").path("id").asText();
    }

    @AfterAll
    static void stopServer() {
        if (pg != null) {
            pg.close();
        }
    }

    static long count(String db, String table) {
        return Long.parseLong(pg.queryForString(db, "SELECT count(*) FROM " + table));
    }

    static String digest(String db, String table) {
        return pg.queryForString(db, "SELECT md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM " + table + " t");
    }

    @Test
    void theJarCarriesThePostgresEngine() {
        CliProcess.Result r = CliProcess.run(Map.of(), "--version").expect(0);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("database engines: ") && l.contains("postgresql")), r.toString());
    }

    @Test
    void backup_json_carriesTheContractFields() {
        CliProcess.Result r = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--jobs", "2",
                "--tag", "env=test", "--json").expect(0);
        JsonNode doc = r.json();
        assertTrue(doc.path("snapshot").path("id").asText().matches("[0-9a-f]{64}"), r.toString());
        assertEquals("test", doc.path("snapshot").path("tags").path("env").asText());
        assertTrue(doc.path("bytesRead").asLong() > 100_000, r.toString());
        assertTrue(doc.path("bytesStored").asLong() >= 0);
        assertTrue(doc.has("dedupRatio"));
        assertTrue(doc.path("durationMillis").asLong() > 0);
        assertTrue(doc.path("streams").size() >= 2, "pre-data, data and post-data streams: " + r);
        for (JsonNode s : doc.path("streams")) {
            assertFalse(s.path("name").asText().isEmpty());
            assertTrue(s.has("bytesRead") && s.has("bytesStored") && s.has("blobs") && s.has("newBlobs"));
        }
        JsonNode orders = null;
        for (JsonNode t : doc.path("tables")) {
            if (t.toString().contains("orders") && !t.toString().contains("order_items")) {
                orders = t;
            }
        }
        assertTrue(orders != null, "tables lists public.orders: " + doc.path("tables"));
        assertEquals(count("shop", "orders"), orders.path("rows").asLong());
        assertFalse(r.stdout().contains(pg.password()) || r.stderr().contains(pg.password()), "no secrets in output");
        assertFalse(r.stderr().contains("backup: "), "no progress with --json: " + r.stderr());
    }

    @Test
    void secondBackupOfUnchangedDatabase_storesAlmostNothing() {
        JsonNode a = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--json").expect(0).json();
        JsonNode b = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--json").expect(0).json();
        assertTrue(b.path("bytesStored").asLong() * 5 < b.path("bytesRead").asLong(),
                "dedup: second backup stored " + b.path("bytesStored") + " of " + b.path("bytesRead"));
        assertNotEquals(a.path("snapshot").path("id").asText(), b.path("snapshot").path("id").asText());
    }

    @Test
    void backup_human_andPlainProgressWhenNotATerminal() {
        CliProcess.Result r = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop")).expect(0);
        assertTrue(r.stdout().startsWith("snapshot "), r.toString());
        assertTrue(r.stdout().contains("  read ") && r.stdout().contains("  stored ") && r.stdout().contains("  time "), r.toString());
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("backup: ") && l.contains("B/s")), "plain progress lines: " + r);
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("backup: done, ")), r.toString());
        assertFalse(r.stderr().contains("\r"), "no bar redraws in a log");
        CliProcess.Result quiet = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--progress", "none").expect(0);
        assertFalse(quiet.stderr().contains("backup: "), quiet.toString());
    }

    @Test
    void backup_inAPseudoTerminal_drawsABar() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "util-linux script is installed");
        CliProcess.Result r = CliProcess.runInPseudoTerminal(env(), "backup", "--repo", repo.toString(), "--db", url("shop")).expect(0);
        String all = r.stdout() + r.stderr();
        assertTrue(all.contains("\rbackup "), "bar redrawn with carriage returns: " + r);
        assertTrue(all.contains("B/s"), r.toString());
        assertFalse(all.contains("backup: done, "), "plain lines only without a terminal: " + r);
    }

    @Test
    void list_andShow() {
        JsonNode list = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json();
        assertTrue(list.path("snapshots").size() >= 1);
        JsonNode first = list.path("snapshots").get(0);
        assertEquals(firstSnapshot, first.path("id").asText());
        assertEquals("first", first.path("tags").path("run").asText());
        assertEquals("postgresql", first.path("engine").asText());

        CliProcess.Result human = CliProcess.run(env(), "list", "--repo", repo.toString()).expect(0);
        assertTrue(human.stdout().startsWith("ID "), human.toString());
        assertTrue(human.stdout().contains(firstSnapshot.substring(0, 8)), human.toString());

        JsonNode show = CliProcess.run(env(), "show", "--repo", repo.toString(), firstSnapshot.substring(0, 8), "--json")
                .expect(0).json().path("snapshot");
        assertEquals(firstSnapshot, show.path("id").asText());
        assertTrue(show.path("streams").size() >= 2);
        for (JsonNode s : show.path("streams")) {
            assertTrue(s.path("sha256").asText().matches("[0-9a-f]{64}"), s.toString());
        }
        assertEquals(4, show.path("tables").size(), show.path("tables").toString());

        CliProcess.Result showHuman = CliProcess.run(env(), "show", "--repo", repo.toString(), firstSnapshot.substring(0, 8)).expect(0);
        assertTrue(showHuman.stdout().contains("SHA-256") && showHuman.stdout().contains("orders"), showHuman.toString());

        CliProcess.run(env(), "show", "--repo", repo.toString(), "ffffffffffff").expect(2);
    }

    @Test
    void restore_intoNewDatabase_isIdentical() {
        CliProcess.Result r = CliProcess.run(env(), "restore", "--repo", repo.toString(), firstSnapshot, "--target", url("copy1"), "--json")
                .expect(0);
        JsonNode doc = r.json();
        assertEquals(firstSnapshot, doc.path("snapshot").asText());
        assertFalse(doc.path("dryRun").asBoolean());
        assertTrue(doc.path("bytesRestored").asLong() > 0);
        for (String t : TABLES) {
            assertEquals(digest("shop", t), digest("copy1", t), t);
        }
    }

    @Test
    void restore_intoExistingDatabase_isRefusedWithoutDropExisting_andChangesNothing() {
        pg.createDatabase("existing");
        pg.execute("existing", "CREATE TABLE keep_me (v text); INSERT INTO keep_me VALUES ('precious')");
        CliProcess.Result refused = CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("existing"));
        assertNotEquals(0, refused.exitCode(), refused.toString());
        assertTrue(refused.stderr().contains("already exists") && refused.stderr().contains("--drop-existing")
                && !refused.stderr().contains("dropExisting()"), "the CLI names its option, not the API's: " + refused);
        assertEquals(2, refused.exitCode(), refused.toString());
        assertEquals("precious", pg.queryForString("existing", "SELECT v FROM keep_me"));
        assertTrue(pg.query("existing", "SELECT 1 FROM pg_tables WHERE tablename = 'orders'").isEmpty(), "nothing restored");

        CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("existing"), "--drop-existing").expect(2);
        assertEquals("precious", pg.queryForString("existing", "SELECT v FROM keep_me"), "no --yes and no terminal: refused");

        CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("existing"), "--drop-existing", "--yes").expect(0);
        assertTrue(pg.query("existing", "SELECT 1 FROM pg_tables WHERE tablename = 'keep_me'").isEmpty(), "replaced");
        assertEquals(digest("shop", "public.customers"), digest("existing", "public.customers"));
    }

    @Test
    void restore_dropExisting_leavesASessionAlone_unlessTerminateSessions_andRestoreGlobalsReplaysRoles() throws Exception {
        pg.createDatabase("in_use");
        try (java.sql.Connection app = pg.connect("in_use")) {
            CliProcess.Result refused = CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("in_use"),
                    "--drop-existing", "--yes");
            assertEquals(2, refused.exitCode(), refused.toString());
            assertTrue(refused.stderr().contains("--terminate-sessions"), refused.toString());
            assertTrue(app.isValid(5));
            CliProcess.Result plan = CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("in_use"),
                    "--drop-existing", "--terminate-sessions", "--restore-globals", "--dry-run").expect(0);
            assertTrue(plan.stdout().contains("restore roles, role memberships and tablespaces (globals"), plan.toString());
            assertTrue(plan.stdout().contains("replace database in_use"), plan.toString());
            CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("in_use"), "--drop-existing", "--yes",
                    "--terminate-sessions", "--restore-globals").expect(0);
            assertFalse(app.isValid(5), "the session was ended, as asked");
        }
        assertEquals(digest("shop", "public.customers"), digest("in_use", "public.customers"));
        pg.dropDatabase("in_use");
    }

    @Test
    void restore_dryRun_printsThePlan_andChangesNothing() {
        CliProcess.Result human = CliProcess.run(env(), "restore", "--repo", repo.toString(), "latest", "--target", url("planned"), "--dry-run")
                .expect(0);
        assertTrue(human.stdout().startsWith("dry run: "), human.toString());
        assertTrue(human.stdout().contains("  1. "), "numbered actions: " + human);
        assertTrue(human.stdout().contains("nothing was changed"), human.toString());
        assertFalse(pg.databaseExists("planned"));

        JsonNode doc = CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("planned"), "--dry-run", "--json")
                .expect(0).json();
        assertTrue(doc.path("dryRun").asBoolean());
        assertTrue(doc.path("plan").path("actions").size() > 0, doc.toString());
        assertTrue(doc.path("plan").path("bytes").asLong() > 0, doc.toString());
        assertFalse(pg.databaseExists("planned"));
    }

    @Test
    void restore_selectedTables_only() {
        CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("only_products"), "--tables", "public.products")
                .expect(0);
        assertEquals(digest("shop", "public.products"), digest("only_products", "public.products"));
        assertTrue(pg.query("only_products", "SELECT 1 FROM pg_tables WHERE tablename = 'orders'").isEmpty());

        CliProcess.Result unknown = CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("nope_tables"), "--tables", "public.no_such_table");
        assertNotEquals(0, unknown.exitCode());
        assertTrue(unknown.stderr().contains("no_such_table"), unknown.toString());
    }

    @Test
    void restore_schemaOnly_hasTablesWithoutRows() {
        CliProcess.run(env(), "restore", "--repo", repo.toString(), "--target", url("schema_only"), "--schema-only").expect(0);
        assertEquals(0, count("schema_only", "public.orders"));
    }

    @Test
    void verify_everyLevel_passesOnAGoodRepository() {
        for (String level : List.of("quick", "standard")) {
            JsonNode doc = CliProcess.run(env(), "verify", "--repo", repo.toString(), "--level", level, "--json").expect(0).json();
            assertTrue(doc.path("passed").asBoolean(), doc.toString());
            JsonNode report = doc.path("reports").get(0);
            assertEquals(level, report.path("level").asText());
            assertTrue(report.path("checksPassed").asInt() > 0);
            assertEquals(0, report.path("checksFailed").asInt());
        }
        JsonNode all = CliProcess.run(env(), "verify", "--repo", repo.toString(), "--all", "--level", "quick", "--json").expect(0).json();
        JsonNode list = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").json();
        assertEquals(list.path("snapshots").size(), all.path("reports").size());

        CliProcess.Result comprehensive = CliProcess.run(env(), "verify", "--repo", repo.toString(), firstSnapshot.substring(0, 10),
                "--level", "comprehensive", "--scratch", url("postgres")).expect(0);
        assertTrue(comprehensive.stdout().contains("comprehensive: "), comprehensive.toString());
        assertTrue(comprehensive.stdout().contains("verification passed"), comprehensive.toString());
    }

    @Test
    void corruptedPack_failsVerifyAndRestore_withExit3() throws IOException {
        Path damaged = dir.resolve("damaged");
        copyTree(repo, damaged);
        Path pack;
        try (Stream<Path> s = Files.walk(damaged.resolve("data"))) {
            pack = s.filter(Files::isRegularFile).max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
            long pos = f.length() / 3;
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x40);
        }
        CliProcess.Result verify = CliProcess.run(env(), "verify", "--repo", damaged.toString(), "--all", "--json").expect(3);
        JsonNode doc = verify.json();
        assertFalse(doc.path("passed").asBoolean());
        String damagedSnapshot = null;
        for (JsonNode r : doc.path("reports")) {
            if (r.path("checksFailed").asInt() > 0) {
                damagedSnapshot = r.path("snapshot").asText();
            }
        }
        assertTrue(damagedSnapshot != null, "a failed check names the damaged snapshot: " + doc);

        CliProcess.Result human = CliProcess.run(env(), "verify", "--repo", damaged.toString(), "--all").expect(3);
        assertTrue(human.stdout().contains("FAILED"), human.toString());

        CliProcess.Result restore = CliProcess.run(env(), "restore", "--repo", damaged.toString(), damagedSnapshot, "--target", url("from_damaged"))
                .expect(3);
        assertTrue(restore.stderr().contains("damaged"), restore.toString());
        assertFalse(pg.databaseExists("from_damaged"), "a failed restore removes the database it created");
    }

    @Test
    void missingDatabase_exit1_andNoSnapshotIsWritten() {
        int before = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").json().path("snapshots").size();
        CliProcess.Result r = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("no_such_db")).expect(1);
        assertTrue(r.stderr().contains("no_such_db"), r.toString());
        JsonNode err = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("no_such_db"), "--json").expect(1).json();
        assertEquals(1, err.path("error").path("exitCode").asInt());
        assertEquals(before, CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").json().path("snapshots").size());
    }

    @Test
    void wrongDatabasePassword_exit1_withoutShowingIt() {
        Map<String, String> env = env();
        env.put("BACKUPKIT_DB_PASSWORD", "definitely-wrong-db-password");
        CliProcess.Result r = CliProcess.run(env, "backup", "--repo", repo.toString(), "--db", url("shop")).expect(1);
        assertFalse(r.stderr().contains("definitely-wrong-db-password"), r.toString());
    }

    @Test
    void demo_printsTheResultsTable_andExits0(@TempDir Path work) {
        CliProcess.Result r = CliProcess.run(Map.of(), work, "demo", "--orders", "2000").expect(0);
        assertTrue(r.stdout().contains("RESULTS"), r.toString());
        assertTrue(r.stdout().contains("backup #2"), r.toString());
        assertTrue(r.stdout().contains("verify (comprehensive)"), r.toString());
        assertTrue(r.stdout().contains("demo passed"), r.toString());
        assertFalse(r.stdout().contains("DIFFERENT"), r.toString());
        assertTrue(Files.exists(work.resolve("backupkit-demo").resolve("config")));

        // a second run replaces its own repository
        JsonNode doc = CliProcess.run(Map.of(), work, "demo", "--orders", "500", "--json").expect(0).json();
        assertTrue(doc.path("passed").asBoolean(), doc.toString());
        assertEquals(4, doc.path("tables").size());
        assertTrue(doc.path("steps").size() >= 4);
        CliProcess.run(Map.of("BACKUPKIT_PASSWORD", DemoCommand.DEMO_PASSWORD), work, "list", "--repo", "backupkit-demo").expect(0);
    }

    @Test
    void demo_withoutPostgresBinaries_saysWhatToInstall(@TempDir Path work) {
        CliProcess.Result r = CliProcess.run(Map.of("BACKUPKIT_PG_BIN", work.resolve("no-postgres-here").toString()), work, "demo")
                .expect(2);
        assertTrue(r.stderr().contains("apt-get install postgresql-15"), r.toString());
        assertTrue(r.stderr().contains("initdb"), r.toString());
    }

    @Test
    void demo_refusesToDeleteADirectoryThatIsNotItsRepository(@TempDir Path work) throws IOException {
        Files.createDirectories(work.resolve("backupkit-demo"));
        Files.writeString(work.resolve("backupkit-demo").resolve("notes.txt"), "mine");
        CliProcess.run(Map.of(), work, "demo").expect(2);
        assertEquals("mine", Files.readString(work.resolve("backupkit-demo").resolve("notes.txt")));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
