package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Backup → restore round trips against a real cluster (acceptance 1, 2 and 3 of issue 3). */
class PostgresRoundTripIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void pgbenchScale10_roundTrip_everyTableDigestAndSequenceEqual() throws Exception {
        pg.createDatabase("bench");
        pg.runTool("pgbench", "-i", "-s", "10", "-q", "bench");
        pg.runTool("pgbench", "-t", "200", "-c", "2", "bench");
        pg.execute("bench", "CREATE SEQUENCE bench_seq; SELECT setval('bench_seq', 4242)");

        long t0 = System.nanoTime();
        InMemoryBackup ctx = new InMemoryBackup(4);
        PostgresSource source = source(pg, "bench");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        long backupMs = (System.nanoTime() - t0) / 1_000_000;

        t0 = System.nanoTime();
        target(pg, "bench_copy").build().restore(ctx.restoreContext(snapshot, 2));
        long restoreMs = (System.nanoTime() - t0) / 1_000_000;

        assertEquals(DbDigest.tables(pg, "bench"), DbDigest.tables(pg, "bench_copy"));
        assertEquals(DbDigest.sequences(pg, "bench"), DbDigest.sequences(pg, "bench_copy"));
        assertEquals("4242/true", DbDigest.sequences(pg, "bench_copy").get("public.bench_seq"));
        long rows = ((List<?>) snapshot.metadata().get("tables")).stream().map(m -> (Map<?, ?>) m)
                .filter(m -> m.get("name").equals("public.pgbench_accounts")).mapToLong(m -> ((Number) m.get("rows")).longValue()).sum();
        assertEquals(1_000_000, rows);
        assertEquals(4, streamsByTable(snapshot).get("public.pgbench_accounts").size(), "the big table is split for four workers");

        // a split table restores selectively from its page ranges alone
        target(pg, "bench_accounts").tables("pgbench_accounts").build().restore(ctx.restoreContext(snapshot, 2));
        assertEquals(DbDigest.tables(pg, "bench").get("public.pgbench_accounts"),
                DbDigest.tables(pg, "bench_accounts").get("public.pgbench_accounts"));
        assertEquals(List.of("pgbench_accounts"), pg.query("bench_accounts", "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                .stream().map(r -> r.get(0)).toList());
        pg.dropDatabase("bench_accounts");

        // -o splitLargeTables=false: one plain COPY per table, as pg_dump reads it (no page ranges)
        InMemoryBackup whole = new InMemoryBackup(4);
        io.backupkit.spi.BackupSource unsplit = new PostgresEngine().source(pg.jdbcUrl("bench"),
                Map.of("user", pg.user(), "password", pg.password(), "splitLargeTables", "false"));
        unsplit.backup(whole);
        Snapshot wholeSnapshot = whole.snapshot(unsplit);
        assertEquals(1, streamsByTable(wholeSnapshot).get("public.pgbench_accounts").size(), streamsByTable(wholeSnapshot).toString());
        target(pg, "bench_whole").build().restore(whole.restoreContext(wholeSnapshot, 2));
        assertEquals(DbDigest.tables(pg, "bench"), DbDigest.tables(pg, "bench_whole"));
        pg.dropDatabase("bench_whole");

        // the reference: what a user gets from the tools directly
        Path file = pg.workDirectory().resolve("bench.dump");
        t0 = System.nanoTime();
        pg.runTool("pg_dump", "-Fc", "-f", file.toString(), "bench");
        long pgDumpMs = (System.nanoTime() - t0) / 1_000_000;
        pg.createDatabase("bench_ref");
        t0 = System.nanoTime();
        pg.runTool("pg_restore", "-j", "2", "-d", "bench_ref", file.toString());
        long pgRestoreMs = (System.nanoTime() - t0) / 1_000_000;
        long ours = snapshot.streams().stream().mapToLong(s -> s.size()).sum();
        System.out.printf("pgbench scale 10: backupkit backup %d ms (%d streams, %d bytes before repository compression), "
                        + "restore %d ms; pg_dump -Fc %d ms (%d bytes), pg_restore -j 2 %d ms%n",
                backupMs, snapshot.streams().size(), ours, restoreMs, pgDumpMs, Files.size(file), pgRestoreMs);
        Files.delete(file);
        pg.dropDatabase("bench_ref");
        pg.dropDatabase("bench_copy");
        pg.dropDatabase("bench");
    }

    /** schema.table → the data streams carrying its rows (one pg_dump shard, or several COPY page ranges). */
    static Map<String, List<String>> streamsByTable(Snapshot snapshot) {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        for (Object o : (List<?>) snapshot.metadata().get("tables")) {
            Map<?, ?> t = (Map<?, ?>) o;
            List<String> streams = new java.util.ArrayList<>();
            if (t.get("stream") != null) {
                streams.add(t.get("stream").toString());
            }
            ((List<?>) t.get("parts")).forEach(p -> streams.add(p.toString()));
            out.put(t.get("name").toString(), streams);
        }
        return out;
    }

    @Test
    void splitTable_roundTripsExactly_evenWithUnusualSessionDefaults() {
        pg.createDatabase("typed");
        // settings that would garble COPY text if the dump and restore sessions did not pin their own
        pg.execute("postgres", "ALTER DATABASE typed SET DateStyle = 'SQL, DMY'; ALTER DATABASE typed SET extra_float_digits = -2; "
                + "ALTER DATABASE typed SET IntervalStyle = 'sql_standard'; "
                + "ALTER DATABASE typed SET search_path = \"$user\", public, \"odd Schema\"");
        pg.execute("typed", """
                CREATE TABLE measurements (id bigint PRIMARY KEY, f float8, r real, d date, ts timestamptz, iv interval, b bytea,
                    note text, net numeric(12,3), gross numeric(12,3) GENERATED ALWAYS AS (net * 1.19) STORED);
                ALTER TABLE measurements DROP COLUMN note;
                ALTER TABLE measurements ADD COLUMN note text DEFAULT 'n/a';
                INSERT INTO measurements (id, f, r, d, ts, iv, b, net, note)
                    SELECT i, random() * 1e10 / 3, (random() * 1000)::real, date '2001-02-03' + (i % 5000),
                           timestamptz '2020-01-01 00:00:00+00' + i * interval '1.5 second', i * interval '1 day 2 hours 3.5 seconds',
                           decode(md5(i::text), 'hex'), i / 7.0, CASE WHEN i % 3 = 0 THEN NULL ELSE 'tab\there ' || i END
                    FROM generate_series(1, 330000) i;
                """);
        pg.execute("typed", "VACUUM ANALYZE measurements");
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = source(pg, "typed");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        assertEquals(2, streamsByTable(snapshot).get("public.measurements").size(), streamsByTable(snapshot).toString());

        target(pg, "typed_copy").build().restore(ctx.restoreContext(snapshot, 2));
        // digests independent of session settings: the exact bits of floats, epochs of times
        String digest = "SELECT md5(string_agg(id || ':' || encode(float8send(f), 'hex') || ':' || encode(float4send(r), 'hex') || ':' || to_char(d, 'YYYY-MM-DD') || ':' "
                + "|| extract(epoch FROM ts) || ':' || extract(epoch FROM iv) || ':' || encode(b, 'hex') || ':' || net || ':' || gross "
                + "|| ':' || coalesce(note, '<null>'), ',' ORDER BY id)) FROM measurements";
        assertEquals(pg.queryForString("typed", digest), pg.queryForString("typed_copy", digest));
        String settings = "SELECT array_to_string(array(SELECT unnest(setconfig) ORDER BY 1), ';') FROM pg_db_role_setting s "
                + "JOIN pg_database d ON d.oid = s.setdatabase WHERE s.setrole = 0 AND d.datname = ";
        assertEquals(pg.queryForString("postgres", settings + "'typed'"), pg.queryForString("postgres", settings + "'typed_copy'"),
                "database-level settings come along");
        pg.dropDatabase("typed_copy");
        pg.dropDatabase("typed");
    }

    @Test
    void broadSchema_roundTrip_schemaDumpsIdenticalAndDataEqual() {
        pg.createDatabase("broad");
        PgTestSupport.createBroadSchema(pg, "broad");
        InMemoryBackup ctx = new InMemoryBackup(3);
        PostgresSource source = source(pg, "broad");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);

        target(pg, "broad_copy").build().restore(ctx.restoreContext(snapshot, 3));

        assertEquals(PgTestSupport.schemaDump(pg, "broad"), PgTestSupport.schemaDump(pg, "broad_copy"));
        assertEquals(DbDigest.tables(pg, "broad"), DbDigest.tables(pg, "broad_copy"));
        assertEquals(DbDigest.sequences(pg, "broad"), DbDigest.sequences(pg, "broad_copy"));
        assertEquals(DbDigest.largeObjects(pg, "broad"), DbDigest.largeObjects(pg, "broad_copy"));
        assertEquals(2, DbDigest.largeObjects(pg, "broad_copy").size());
        assertEquals("people who buy", pg.queryForString("broad_copy", "SELECT obj_description('shop.customers'::regclass)"));
        assertEquals("true", pg.queryForString("broad_copy",
                "SELECT has_table_privilege('app_reader', 'shop.customers', 'SELECT')::text"));
        pg.dropDatabase("broad_copy");
        pg.dropDatabase("broad");
    }

    @Test
    void fourWorkers_runSeveralPgDumpsAtOnce_andAConcurrentWriterCannotUnbalanceTheSnapshot() throws Exception {
        pg.createDatabase("bank");
        pg.execute("bank", """
                CREATE TABLE bank_a (id int PRIMARY KEY, balance bigint NOT NULL, pad text);
                CREATE TABLE bank_b (id int PRIMARY KEY, balance bigint NOT NULL, pad text);
                CREATE TABLE transfers (id bigserial PRIMARY KEY, amount bigint NOT NULL);
                INSERT INTO bank_a SELECT i, 1000, repeat(md5(i::text), 4) FROM generate_series(1, 300000) i;
                INSERT INTO bank_b SELECT i, 1000, repeat(md5(i::text), 4) FROM generate_series(1, 300000) i;
                CREATE TABLE filler_1 AS SELECT i, repeat(md5(i::text), 3) AS pad FROM generate_series(1, 250000) i;
                CREATE TABLE filler_2 AS SELECT i, repeat(md5(i::text), 3) AS pad FROM generate_series(1, 250000) i;
                CREATE TABLE filler_3 AS SELECT i, repeat(md5(i::text), 3) AS pad FROM generate_series(1, 200000) i;
                """);
        pg.execute("bank", "VACUUM ANALYZE");
        long total = 2L * 300000 * 1000;
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger maxDumps = new AtomicInteger();
        AtomicLong transfers = new AtomicLong();
        Thread writer = new Thread(() -> {
            Random rnd = new Random(42);
            try (Connection c = pg.connect("bank"); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                while (!stop.get()) {
                    int amount = 1 + rnd.nextInt(50);
                    st.execute("UPDATE bank_a SET balance = balance - " + amount + " WHERE id = " + (1 + rnd.nextInt(300000)));
                    st.execute("UPDATE bank_b SET balance = balance + " + amount + " WHERE id = " + (1 + rnd.nextInt(300000)));
                    st.execute("INSERT INTO transfers (amount) VALUES (" + amount + ")");
                    c.commit();
                    transfers.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Thread watcher = new Thread(() -> {
            try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
                while (!stop.get()) {
                    try (var rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity "
                            + "WHERE application_name LIKE 'backupkit-%data-0%' AND state <> 'idle'")) {
                        rs.next();
                        maxDumps.accumulateAndGet(rs.getInt(1), Math::max);
                    }
                    Thread.sleep(5);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        watcher.start();
        Thread.sleep(300);
        InMemoryBackup ctx = new InMemoryBackup(4);
        PostgresSource source = source(pg, "bank");
        long before = transfers.get();
        source.backup(ctx);
        long during = transfers.get() - before;
        stop.set(true);
        writer.join();
        watcher.join();
        Snapshot snapshot = ctx.snapshot(source);

        Map<String, List<String>> streamsOf = streamsByTable(snapshot);
        List<String> a = streamsOf.get("public.bank_a");
        List<String> b = streamsOf.get("public.bank_b");
        assertTrue(a.size() >= 2 && b.size() >= 2, "tables bigger than a fair share are dumped in page ranges: " + streamsOf);
        assertTrue(a.stream().noneMatch(b::contains), "the two accounts tables are dumped by different processes: " + streamsOf);
        assertTrue(snapshot.streams().stream().filter(st -> st.name().startsWith("data-0")).count() >= 4, snapshot.streams().toString());
        assertTrue(maxDumps.get() >= 2, "several dump processes ran at once, saw at most " + maxDumps.get());
        assertTrue(maxDumps.get() <= 4, "never more dump processes than workers, saw " + maxDumps.get());
        assertTrue(during > 0, "the writer committed transfers while the backup ran");
        assertTrue(ctx.maxConcurrentStreams() <= 4, "never more open streams than the context's parallelism");
        assertTrue(ctx.expectedBytesReported() > 4 * 10_000_000L, "expected bytes announced: " + ctx.expectedBytesReported());

        target(pg, "bank_copy").build().restore(ctx.restoreContext(snapshot, 4));
        String sums = pg.queryForString("bank_copy", "SELECT (SELECT sum(balance) FROM bank_a) + (SELECT sum(balance) FROM bank_b)");
        assertEquals(Long.toString(total), sums, "money neither created nor destroyed across tables dumped by different processes");
        String moved = pg.queryForString("bank_copy", "SELECT (SELECT coalesce(sum(amount), 0) FROM transfers) = "
                + "(SELECT " + (300000 * 1000L) + " - sum(balance) FROM bank_a)");
        assertEquals("t", moved, "the transfer log matches the balances: one snapshot for all tables");
        System.out.printf("parallel backup: at most %d pg_dump data processes at once, %d transfers committed during the backup%n",
                maxDumps.get(), during);
        pg.dropDatabase("bank_copy");
        pg.dropDatabase("bank");
    }
}
