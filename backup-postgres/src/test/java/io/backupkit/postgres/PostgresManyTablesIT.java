package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tens of thousands of tables (issue 9, item 15): one {@code --table} argument per table made
 * pg_dump run one catalog query per pattern and overflowed the command line (2 MiB here) well
 * before that. 20,000 tables with long names by default, more with
 * {@code -Dbackupkit.it.manyTables=N}.
 */
class PostgresManyTablesIT {
    static final int TABLES = Integer.getInteger("backupkit.it.manyTables", 20_000);
    /** 48 characters: with the 58-character table names every pattern is about 110 bytes, over 2 MiB for 20,000. */
    static final String SCHEMA = "partitioned_measurements_of_the_northern_region_";
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        // every session of a backup or a pg_dump locks each table it reads: size the lock table for that
        pg = EphemeralPostgres.builder().setting("max_connections", "40").setting("max_locks_per_transaction", "2048")
                .setting("shared_buffers", "'64MB'").start();
        long t0 = System.nanoTime();
        pg.createDatabase("many");
        pg.execute("many", "CREATE SCHEMA " + SCHEMA + "; CREATE TABLE " + SCHEMA + ".parent_with_a_rather_long_name (id int, v int) "
                + "PARTITION BY RANGE (id)");
        // partitions of one parent would be quadratic to create; a few hundred of them, the rest plain tables
        int partitions = Math.min(200, TABLES / 10);
        pg.execute("many", "DO $$BEGIN FOR i IN 1.." + partitions + " LOOP EXECUTE format('CREATE TABLE " + SCHEMA
                + ".%s PARTITION OF " + SCHEMA + ".parent_with_a_rather_long_name FOR VALUES FROM (%s) TO (%s)', "
                + "'measurements_partition_for_the_station_number_' || lpad(i::text, 6, '0'), i * 10, i * 10 + 10); END LOOP; END$$");
        pg.execute("many", "INSERT INTO " + SCHEMA + ".parent_with_a_rather_long_name SELECT i, i FROM generate_series(10, "
                + (partitions * 10 + 9) + ") i");
        // the plain tables in one server-side loop, one transaction: CREATE TABLE AS makes each table with its
        // row in one statement (no second INSERT per table, no round trip per batch)
        pg.execute("many", "DO $$BEGIN FOR i IN 1.." + (TABLES - partitions) + " LOOP EXECUTE format("
                + "'CREATE TABLE " + SCHEMA + ".%s AS SELECT %s::int AS id, %s::int AS v', "
                + "'measurements_of_a_weather_station_with_a_long_name_' || lpad(i::text, 6, '0'), i, i); END LOOP; END$$");
        System.out.printf("%d tables created in %d ms%n", TABLES, (System.nanoTime() - t0) / 1_000_000);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void twentyThousandTablesWithLongNames_roundTrip() {
        long t0 = System.nanoTime();
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = source(pg, "many");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        long backupMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(TABLES + 1, ((List<?>) snapshot.metadata().get("tables")).size());

        t0 = System.nanoTime();
        target(pg, "many_copy").build().restore(ctx.restoreContext(snapshot, 2));
        long restoreMs = (System.nanoTime() - t0) / 1_000_000;

        String leaves = "schemaname = '" + SCHEMA + "' AND tablename NOT LIKE 'parent%'";
        String count = "SELECT count(*) FROM pg_tables WHERE " + leaves;
        assertEquals(pg.queryForString("many", count), pg.queryForString("many_copy", count));
        String rows = "SELECT sum(v)::text || '/' || count(*) FROM (SELECT (xpath('/row/v/text()', "
                + "query_to_xml(format('SELECT sum(v) AS v FROM %I.%I', schemaname, tablename), false, true, '')))[1]::text::bigint AS v "
                + "FROM pg_tables WHERE " + leaves + ") s";
        String sourceRows = pg.queryForString("many", rows);
        assertEquals(sourceRows, pg.queryForString("many_copy", rows));
        assertTrue(sourceRows.endsWith("/" + TABLES), sourceRows);
        Map<?, ?> first = (Map<?, ?>) ((List<?>) snapshot.metadata().get("tables")).get(TABLES / 2);
        assertEquals(1L, ((Number) first.get("rows")).longValue(), first.toString());
        System.out.printf("%d tables: backup %d ms, restore %d ms, comparison %d ms%n", TABLES, backupMs, restoreMs,
                (System.nanoTime() - t0) / 1_000_000 - restoreMs);
        pg.dropDatabase("many_copy");
    }
}
