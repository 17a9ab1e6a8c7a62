package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backups from a hot standby (issue 9, item 15): a standby cannot read unlogged tables (their data
 * is never replicated) or unlogged sequences; the backup leaves their rows out, as pg_dump does,
 * says so in the manifest, and restores everything else exactly.
 */
class PostgresStandbyIT {
    static EphemeralPostgres primary;
    static StandbyServer standby;

    @BeforeAll
    static void start() throws Exception {
        primary = EphemeralPostgres.builder().setting("max_connections", "60").setting("wal_level", "replica").start();
        primary.createDatabase("shop");
        primary.execute("shop", """
                CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, total numeric NOT NULL);
                INSERT INTO orders (total) SELECT i * 1.25 FROM generate_series(1, 3000) i;
                CREATE UNLOGGED TABLE sessions (token text PRIMARY KEY, seen timestamptz);
                INSERT INTO sessions SELECT md5(i::text), now() FROM generate_series(1, 200) i;
                CREATE UNLOGGED SEQUENCE scratch_seq;
                SELECT nextval('scratch_seq');
                CREATE SEQUENCE invoice_no;
                SELECT setval('invoice_no', 99);
                """);
        standby = StandbyServer.of(primary);
        standby.awaitReplay();
    }

    @AfterAll
    static void stop() {
        if (standby != null) {
            standby.close();
        }
        primary.close();
    }

    @Test
    void backupFromAStandby_withUnloggedTables_restoresEverythingElseExactly() {
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = PostgresSource.builder().url(standby.jdbcUrl("shop")).user(primary.user())
                .password(primary.password().toCharArray()).build();
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);

        assertEquals(true, snapshot.metadata().get("standby"));
        Map<?, ?> sessions = ((List<?>) snapshot.metadata().get("tables")).stream().map(t -> (Map<?, ?>) t)
                .filter(t -> t.get("name").equals("public.sessions")).findFirst().orElseThrow();
        assertTrue(String.valueOf(sessions.get("dataSkipped")).contains("unlogged table on a standby"), sessions.toString());

        target(primary, "shop_copy").build().restore(ctx.restoreContext(snapshot, 2));
        Map<String, String> source1 = DbDigest.tables(primary, "shop");
        Map<String, String> copy = DbDigest.tables(primary, "shop_copy");
        assertEquals(source1.get("public.orders"), copy.get("public.orders"));
        assertEquals("0:-", copy.get("public.sessions"), "the unlogged table is there, empty");
        assertEquals(DbDigest.sequences(primary, "shop").get("public.orders_id_seq"), DbDigest.sequences(primary, "shop_copy")
                .get("public.orders_id_seq"));
        assertEquals("99/true", DbDigest.sequences(primary, "shop_copy").get("public.invoice_no"));
        assertEquals("u", primary.queryForString("shop_copy", "SELECT relpersistence FROM pg_class WHERE relname = 'scratch_seq'"));
        primary.dropDatabase("shop_copy");
    }
}
