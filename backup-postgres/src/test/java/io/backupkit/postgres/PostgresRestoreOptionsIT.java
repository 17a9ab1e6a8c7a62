package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Selective, schema-only, data-only, dry-run, drop-existing restores and verification by restore (acceptance 4, 5). */
class PostgresRestoreOptionsIT {
    static EphemeralPostgres pg;
    static InMemoryBackup backup;
    static Snapshot snapshot;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        pg.createDatabase("shop");
        PgTestSupport.createBroadSchema(pg, "shop");
        backup = new InMemoryBackup(3);
        PostgresSource source = source(pg, "shop");
        source.backup(backup);
        snapshot = backup.snapshot(source);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static Map<String, String> only(Map<String, String> digests, String... tables) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : tables) {
            out.put(t, digests.get(t));
        }
        return out;
    }

    @Test
    void selectiveRestore_bringsChosenTablesWithPartitionsAndSequences_andNothingElse() {
        target(pg, "sel").tables("shop.orders", "customers").build().restore(backup.restoreContext(snapshot, 2));

        String[] chosen = {"shop.customers", "shop.orders_2025", "shop.orders_2026"};
        assertEquals(only(DbDigest.tables(pg, "shop"), chosen), only(DbDigest.tables(pg, "sel"), chosen));
        assertEquals(List.of("shop.customers", "shop.orders", "shop.orders_2025", "shop.orders_2026"),
                pg.query("sel", "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname = 'shop' ORDER BY 1")
                        .stream().map(r -> r.get(0)).toList());
        Map<String, String> seqs = DbDigest.sequences(pg, "sel");
        assertEquals(DbDigest.sequences(pg, "shop").get("shop.customers_id_seq"), seqs.get("shop.customers_id_seq"));
        assertEquals(DbDigest.sequences(pg, "shop").get("shop.orders_id_seq"), seqs.get("shop.orders_id_seq"));
        assertFalse(seqs.containsKey("shop.events_id_seq"), "sequences of tables not chosen stay out: " + seqs);
        assertEquals("1", pg.queryForString("sel", "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'shop.orders'::regclass"),
                "the foreign key between two chosen tables is restored");
        pg.dropDatabase("sel");
    }

    @Test
    void selectiveRestore_withUnknownTable_namesItAndCreatesNothing() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> target(pg, "sel_unknown").tables("shop.customers", "shop.nope").build().restore(backup.restoreContext(snapshot, 2)));
        assertTrue(e.getMessage().contains("table shop.nope is not in snapshot"), e.getMessage());
        assertFalse(pg.databaseExists("sel_unknown"));
    }

    @Test
    void schemaOnly_thenDataOnly_giveTheSourceBack() {
        target(pg, "two_step").schemaOnly().build().restore(backup.restoreContext(snapshot, 2));
        assertEquals(PgTestSupport.schemaDump(pg, "shop"), PgTestSupport.schemaDump(pg, "two_step"));
        assertEquals("0", pg.queryForString("two_step", "SELECT count(*) FROM shop.customers"));

        target(pg, "two_step").dataOnly().build().restore(backup.restoreContext(snapshot, 2));
        Map<String, String> expected = DbDigest.tables(pg, "shop");
        Map<String, String> actual = DbDigest.tables(pg, "two_step");
        // the materialized view was refreshed over empty tables by the schema step; data-only does not refresh it
        expected.remove("shop.status_counts");
        actual.remove("shop.status_counts");
        assertEquals(expected, actual);
        assertEquals(DbDigest.sequences(pg, "shop"), DbDigest.sequences(pg, "two_step"));
        assertEquals(DbDigest.largeObjects(pg, "shop"), DbDigest.largeObjects(pg, "two_step"));
        pg.dropDatabase("two_step");
    }

    @Test
    void dataOnly_intoMissingDatabase_isRefused() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> target(pg, "no_such_db").dataOnly().build().restore(backup.restoreContext(snapshot, 2)));
        assertTrue(e.getMessage().contains("data-only restore needs the database no_such_db to exist"), e.getMessage());
    }

    @Test
    void dryRun_listsWhatWouldHappen_andChangesNothing() {
        RestorePlan plan = target(pg, "planned").build().plan(backup.restoreContext(snapshot, 2));
        assertTrue(plan.actions().get(0).startsWith("create database planned (encoding UTF8"), plan.actions().toString());
        assertTrue(plan.actions().stream().anyMatch(a -> a.startsWith("restore table shop.customers (500 rows")), plan.actions().toString());
        assertTrue(plan.actions().stream().anyMatch(a -> a.startsWith("restore indexes, constraints, triggers")), plan.actions().toString());
        // everything but the cluster's roles, which a restore replays only when asked
        assertEquals(snapshot.streams().stream().filter(s -> !s.name().equals("globals")).mapToLong(s -> s.size()).sum(), plan.bytes());
        assertFalse(pg.databaseExists("planned"));

        pg.createDatabase("planned_existing");
        assertThrows(ConfigurationException.class, () -> target(pg, "planned_existing").build().plan(backup.restoreContext(snapshot, 2)));
        RestorePlan replace = target(pg, "planned_existing").dropExisting().build().plan(backup.restoreContext(snapshot, 2));
        assertTrue(replace.actions().get(0).startsWith("create database planned_existing under a temporary name (encoding UTF8"),
                replace.actions().toString());
        assertTrue(replace.actions().get(replace.actions().size() - 1).startsWith("replace database planned_existing (existing"),
                replace.actions().toString());
        assertTrue(pg.databaseExists("planned_existing"));

        RestorePlan selective = target(pg, "planned").tables("shop.audit_log").build().plan(backup.restoreContext(snapshot, 2));
        assertEquals(1, selective.actions().stream().filter(a -> a.startsWith("restore table ")).count(), selective.actions().toString());
        pg.dropDatabase("planned_existing");
    }

    @Test
    void timescaleSource_wrapsTheRestoreInPreAndPostRestore() {
        Map<String, Object> meta = new LinkedHashMap<>(snapshot.metadata());
        List<Object> extensions = new ArrayList<>((List<?>) meta.get("extensions"));
        extensions.add(Map.of("name", "timescaledb", "version", "2.17.2", "schema", "public"));
        meta.put("extensions", extensions);
        Snapshot withTimescale = new Snapshot(snapshot.id(), snapshot.time(), snapshot.hostname(), snapshot.engine(), snapshot.source(),
                snapshot.tags(), snapshot.streams(), meta, 0, 0, 0);
        List<String> actions = target(pg, "tsdb").build().plan(backup.restoreContext(withTimescale, 2)).actions();
        assertEquals("run timescaledb_pre_restore() (source had timescaledb 2.17.2)", actions.get(1));
        int postData = actions.indexOf(actions.stream().filter(a -> a.startsWith("restore indexes, constraints")).findFirst().orElseThrow());
        assertEquals("run timescaledb_post_restore()", actions.get(postData + 1), actions.toString());
        // this server has no timescaledb: the restore fails at the wrapper and leaves nothing behind
        Exception e = assertThrows(RuntimeException.class, () -> target(pg, "tsdb").build().restore(backup.restoreContext(withTimescale, 2)));
        assertTrue(e.getMessage().contains("timescaledb"), e.getMessage());
        assertFalse(pg.databaseExists("tsdb"));
    }

    @Test
    void existingTarget_isRefusedUntouched_unlessDropExisting() {
        pg.createDatabase("occupied");
        pg.execute("occupied", "CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep me')");

        io.backupkit.TargetExistsException e = assertThrows(io.backupkit.TargetExistsException.class,
                () -> target(pg, "occupied").build().restore(backup.restoreContext(snapshot, 2)));
        assertTrue(e.target().startsWith("database occupied on "), e.target());
        assertTrue(e.getMessage().contains("database occupied already exists"), e.getMessage());
        assertTrue(e.getMessage().contains("dropExisting()"), e.getMessage());
        assertEquals("keep me", pg.queryForString("occupied", "SELECT v FROM precious"));

        target(pg, "occupied").dropExisting().build().restore(backup.restoreContext(snapshot, 2));
        assertEquals("0", pg.queryForString("occupied", "SELECT count(*) FROM pg_tables WHERE tablename = 'precious'"));
        assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "occupied"));
        pg.dropDatabase("occupied");
    }

    @Test
    void failedRestore_removesTheDatabaseItCreated() {
        String shard = snapshot.streams().stream().map(s -> s.name()).filter(n -> n.startsWith("data-0")).findFirst().orElseThrow();
        UnaryOperator<byte[]> flip = b -> {
            byte[] c = b.clone();
            c[c.length / 2] ^= 0x40;
            return c;
        };
        Exception e = assertThrows(RuntimeException.class,
                () -> target(pg, "doomed").build().restore(backup.restoreContext(snapshot, 2, Map.of(shard, flip))));
        assertTrue(e instanceof IntegrityException || e.getMessage().contains("pg_restore"), e.toString());
        assertFalse(pg.databaseExists("doomed"), "a restore that failed part-way leaves no half-restored database");
    }

    @Test
    void verifyByRestore_passesOnAGoodSnapshot_andDropsTheScratchDatabase() {
        List<VerificationCheck> checks = target(pg, "unused").build().verifyByRestore(backup.restoreContext(snapshot, 2));
        assertTrue(checks.stream().noneMatch(VerificationCheck::failed), checks.toString());
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("row count shop.customers") && c.message().equals("500 rows")));
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("schema fingerprint") && c.status() == VerificationCheck.Status.PASSED));
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("btree index check (amcheck)") && c.status() == VerificationCheck.Status.PASSED),
                checks.toString());
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void verifyByRestore_failsTheRowCountCheck_whenDataDoesNotMatchTheManifest() {
        Map<String, Object> meta = new LinkedHashMap<>(snapshot.metadata());
        List<Object> tables = new ArrayList<>();
        for (Object o : (List<?>) meta.get("tables")) {
            Map<String, Object> t = new LinkedHashMap<>((Map<String, Object>) o);
            if (t.get("name").equals("shop.customers")) {
                t.put("rows", 501L);
            }
            tables.add(t);
        }
        meta.put("tables", tables);
        Snapshot lying = new Snapshot(snapshot.id(), snapshot.time(), snapshot.hostname(), snapshot.engine(), snapshot.source(),
                snapshot.tags(), snapshot.streams(), meta, 0, 0, 0);
        List<VerificationCheck> checks = target(pg, "unused").build().verifyByRestore(backup.restoreContext(lying, 2));
        List<VerificationCheck> failed = checks.stream().filter(VerificationCheck::failed).toList();
        assertEquals(1, failed.size(), checks.toString());
        assertEquals("row count shop.customers", failed.get(0).name());
        assertEquals("expected 501 rows (snapshot metadata), restored 500", failed.get(0).message());
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"));
    }

    @Test
    void verifyByRestore_reportsADamagedStream_asAFailedRestoreCheck() {
        UnaryOperator<byte[]> flip = b -> {
            byte[] c = b.clone();
            c[c.length - 10] ^= 0x01;
            return c;
        };
        List<VerificationCheck> checks = target(pg, "unused").build()
                .verifyByRestore(backup.restoreContext(snapshot, 2, Map.of("post-data", flip)));
        assertTrue(checks.get(0).failed() && checks.get(0).name().startsWith("restore into scratch database"), checks.toString());
        assertTrue(checks.get(0).message().contains("post-data"), checks.get(0).message());
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"));
    }
}
