package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * forget, prune, check, unlock, stats, diff and copy through the real jar against a throwaway PostgreSQL.
 * The first test is issue 11's acceptance 1.
 */
class CliMaintenanceIT {
    private static final String PASSWORD = "it-repository-password";
    private static final String DEST_PASSWORD = "it-destination-password";
    private static final List<String> TABLES = List.of("public.customers", "public.products", "public.orders", "public.order_items");

    static EphemeralPostgres pg;
    @TempDir
    static Path dir;

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
    static void startServer() {
        pg = EphemeralPostgres.builder().start();
        pg.createDatabase("shop");
        pg.execute("shop", DemoCommand.sampleSchemaAndData(3000));
    }

    @AfterAll
    static void stopServer() {
        if (pg != null) {
            pg.close();
        }
    }

    static Map<String, String> digests(String db) {
        Map<String, String> d = new HashMap<>();
        for (String t : TABLES) {
            d.put(t, pg.queryForString(db, "SELECT md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM " + t + " t"));
        }
        return d;
    }

    static long size(Path repo) throws IOException {
        try (Stream<Path> s = Files.walk(repo)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** Four backups with changes between them; each snapshot's table digests as they were when taken. */
    static Map<String, Map<String, String>> fourBackups(Path repo) {
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
        Map<String, Map<String, String>> taken = new HashMap<>();
        for (int i = 0; i < 4; i++) {
            // each round changes rows and adds new ones, so every backup has data of its own
            pg.execute("shop", "UPDATE orders SET status = 'round" + i + "' WHERE id % 7 = " + i + ";"
                    + "INSERT INTO customers (name, email, country, created_at) SELECT 'new" + i + "-' || g, '"
                    + repo.getFileName() + i + "-' || g || '@example.com', 'DE', now() FROM generate_series(1, 2000) g;");
            String id = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", url("shop"), "--json").expect(0)
                    .json().path("snapshot").path("id").asText();
            taken.put(id, digests("shop"));
        }
        return taken;
    }

    @Test
    void fourBackups_forgetKeepLast2Prune_twoRemain_smaller_restoreAsTaken_checkReadDataPasses() throws Exception {
        Path repo = dir.resolve("acceptance1");
        Map<String, Map<String, String>> taken = fourBackups(repo);
        long before = size(repo);

        JsonNode forget = CliProcess.run(env(), "forget", "--repo", repo.toString(), "--keep-last", "2", "--prune", "--json")
                .expect(0).json();
        assertEquals(2, forget.path("snapshotsRemoved").asInt(), forget.toString());
        JsonNode prune = forget.path("prune");
        assertEquals(2, prune.path("snapshotsRemoved").asInt());
        assertTrue(prune.path("packsDeleted").asInt() + prune.path("packsRepacked").asInt() > 0, prune.toString());
        assertTrue(prune.path("bytesFreed").asLong() > 0, prune.toString());
        assertEquals(0, prune.path("packsPending").asInt(), "nothing else runs: everything goes at once " + prune);

        JsonNode list = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json();
        assertEquals(2, list.path("snapshots").size());
        long after = size(repo);
        assertTrue(after < before, "the repository shrinks: " + before + " -> " + after);

        int n = 0;
        for (JsonNode s : list.path("snapshots")) {
            String id = s.path("id").asText();
            String db = "survivor" + n++;
            CliProcess.run(env(), "restore", "--repo", repo.toString(), id, "--target", url(db)).expect(0);
            assertEquals(taken.get(id), digests(db), "snapshot " + id.substring(0, 8) + " restores to what it was when taken");
        }
        CliProcess.Result check = CliProcess.run(env(), "check", "--repo", repo.toString(), "--read-data").expect(0);
        assertTrue(check.stdout().contains("no errors were found"), check.toString());
        JsonNode checkJson = CliProcess.run(env(), "check", "--repo", repo.toString(), "--read-data", "--json").expect(0).json();
        assertTrue(checkJson.path("ok").asBoolean());
        assertTrue(checkJson.path("packsRead").asInt() > 0 && checkJson.path("packsRead").asInt() == checkJson.path("packs").asInt(),
                checkJson.toString());
    }

    @Test
    void statsDiffCopy_andRefusals() throws Exception {
        Path repo = dir.resolve("tools");
        Map<String, Map<String, String>> taken = fourBackups(repo);
        JsonNode list = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json();
        String first = list.path("snapshots").get(0).path("id").asText();
        String last = list.path("snapshots").get(3).path("id").asText();

        JsonNode stats = CliProcess.run(env(), "stats", "--repo", repo.toString(), "--json").expect(0).json();
        assertEquals(4, stats.path("snapshotCount").asInt());
        assertEquals(4, stats.path("snapshots").size());
        long raw = 0;
        for (JsonNode s : stats.path("snapshots")) {
            raw += s.path("rawBytes").asLong();
            assertTrue(s.path("exclusiveBytes").asLong() <= s.path("storedBytes").asLong(), s.toString());
        }
        assertEquals(raw, stats.path("rawBytes").asLong(), stats.toString());
        assertTrue(stats.path("compressionRatio").asDouble() > 2, "dump text compresses: " + stats);
        CliProcess.Result statsText = CliProcess.run(env(), "stats", "--repo", repo.toString(), "latest").expect(0);
        assertTrue(statsText.stdout().contains(last.substring(0, 8)) && statsText.stdout().contains("deduplicated"), statsText.toString());

        JsonNode diff = CliProcess.run(env(), "diff", "--repo", repo.toString(), first, last, "--json").expect(0).json();
        assertTrue(diff.path("bytesAdded").asLong() > 0, diff.toString());
        boolean customersGrew = false;
        for (JsonNode t : diff.path("tables")) {
            if (t.path("name").asText().equals("public.customers")) {
                customersGrew = t.path("change").asText().equals("changed") && t.path("rowsTo").asLong() == t.path("rowsFrom").asLong() + 6000;
            }
        }
        assertTrue(customersGrew, diff.path("tables").toString());
        CliProcess.Result diffText = CliProcess.run(env(), "diff", "--repo", repo.toString(), first, last).expect(0);
        assertTrue(diffText.stdout().contains("public.customers"), diffText.toString());

        Path dest = dir.resolve("copy");
        Map<String, String> destEnv = new HashMap<>(env());
        destEnv.put("BACKUPKIT_PASSWORD", DEST_PASSWORD);
        CliProcess.run(destEnv, "init", "--repo", dest.toString()).expect(0);
        // no destination password: the CLI says which ways there are to give one (decided on KeyRequiredException)
        CliProcess.Result noKey = CliProcess.run(env(), "copy", "--repo", repo.toString(), "--to", dest.toString()).expect(2);
        assertTrue(noKey.stderr().contains("is encrypted: set BACKUPKIT_TO_PASSWORD or give --to-password-file or --to-key-file"),
                noKey.toString());
        Map<String, String> copyEnv = new HashMap<>(env());
        copyEnv.put("BACKUPKIT_TO_PASSWORD", DEST_PASSWORD);
        JsonNode copy = CliProcess.run(copyEnv, "copy", "--repo", repo.toString(), "--to", dest.toString(), "--json").expect(0).json();
        assertEquals(4, copy.path("copied").size(), copy.toString());
        JsonNode again = CliProcess.run(copyEnv, "copy", "--repo", repo.toString(), "--to", dest.toString(), "--json").expect(0).json();
        assertEquals(4, again.path("skipped").size(), again.toString());
        assertEquals(0, again.path("copied").size());
        String copiedLast = null;
        for (JsonNode c : copy.path("copied")) {
            if (c.path("source").asText().equals(last)) {
                copiedLast = c.path("destination").asText();
            }
        }
        CliProcess.run(destEnv, "restore", "--repo", dest.toString(), copiedLast, "--target", url("copied")).expect(0);
        assertEquals(taken.get(last), digests("copied"));
        assertFalse(CliProcess.run(copyEnv, "copy", "--repo", repo.toString(), "--to", dest.toString()).stdout().contains(DEST_PASSWORD));

        // nonsense keep values are named, and nothing is removed
        CliProcess.Result bad = CliProcess.run(env(), "forget", "--repo", repo.toString(), "--keep-daily", "-3").expect(2);
        assertTrue(bad.stderr().contains("--keep-daily must be 0 or more"), bad.toString());
        bad = CliProcess.run(env(), "forget", "--repo", repo.toString(), "--keep-within", "3 weeks").expect(2);
        assertTrue(bad.stderr().contains("--keep-within") && bad.stderr().contains("7d"), bad.toString());
        bad = CliProcess.run(env(), "forget", "--repo", repo.toString()).expect(2);
        assertTrue(bad.stderr().contains("no keep rule"), bad.toString());
        bad = CliProcess.run(env(), "forget", "--repo", repo.toString(), "--keep-tag", "nobody=has-it").expect(2);
        assertTrue(bad.stderr().contains("keeps no snapshot") && bad.stderr().contains("--force") || bad.stderr().contains("force"),
                bad.toString());
        assertEquals(4, CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json().path("snapshots").size());

        // a prune that cannot run safely says why and by whom, exits non-zero, deletes nothing
        long sizeBefore = size(repo);
        try (Repository r = Repository.builder().location(repo.toString()).password(PASSWORD.toCharArray()).open();
             LockManager.Lock other = ((DefaultRepository) r).locks().acquire(LockManager.PRUNE, "prune")) {
            CliProcess.run(env(), "forget", "--repo", repo.toString(), "--keep-last", "1").expect(0);
            CliProcess.Result refused = CliProcess.run(env(), "prune", "--repo", repo.toString(), "--json").expect(1);
            String message = refused.json().path("error").path("message").asText();
            assertTrue(message.contains("prune lock of prune on") && message.contains("pid " + ProcessHandle.current().pid()), message);
            assertTrue(size(repo) <= sizeBefore);
            CliProcess.Result unlock = CliProcess.run(env(), "unlock", "--repo", repo.toString()).expect(0);
            assertTrue(unlock.stdout().contains("kept prune lock of prune on"), unlock.toString());
        }
        CliProcess.Result unlock = CliProcess.run(env(), "unlock", "--repo", repo.toString()).expect(0);
        assertTrue(unlock.stdout().contains("no locks"), unlock.toString());
        JsonNode pruned = CliProcess.run(env(), "prune", "--repo", repo.toString(), "--json").expect(0).json();
        assertTrue(pruned.path("bytesFreed").asLong() > 0, pruned.toString());
        assertTrue(size(repo) < sizeBefore);
    }
}
