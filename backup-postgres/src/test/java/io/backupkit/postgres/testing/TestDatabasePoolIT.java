package io.backupkit.postgres.testing;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Copies of a template, one made ahead while the current one is in use: each copy has the template's
 * content and nothing a previous user wrote, a released copy is gone, the next copy already exists
 * when it is asked for, and closing leaves no database behind.
 */
class TestDatabasePoolIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        pg.execute("postgres", "CREATE DATABASE pool_template");
        pg.execute("pool_template", "CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 1000)");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static List<String> testDatabases() {
        return pg.query("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%' ORDER BY 1").stream()
                .map(r -> r.get(0)).toList();
    }

    @Test
    void copiesAreFresh_madeAhead_droppedOnRelease_andNoneLeftAfterClose() throws Exception {
        try (TestDatabasePool pool = new TestDatabasePool(pg, "pool_template")) {
            TestDatabase first = pool.take();
            assertEquals("1000", first.queryForString("SELECT count(*) FROM t"));
            first.execute("DELETE FROM t; CREATE TABLE scratch (x int)");
            // the next copy is made while the first is in use
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (testDatabases().size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2, testDatabases().size(), "one copy in use and one made ahead: " + testDatabases());
            pool.release(first);
            assertTrue(!testDatabases().contains(first.name()), "a released copy is dropped");
            TestDatabase second = pool.take();
            assertNotEquals(first.name(), second.name());
            assertEquals("1000", second.queryForString("SELECT count(*) FROM t"), "untouched by the first user");
            assertEquals("0", second.queryForString("SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
            pool.release(second);
        }
        assertEquals(List.of(), testDatabases(), "closing drops the copy made ahead");
    }

    @Test
    void withoutTemplate_givesEmptyDatabases_andAClosedPoolRefuses() {
        TestDatabasePool pool = new TestDatabasePool(pg, null);
        TestDatabase db = pool.take();
        assertEquals("0", db.queryForString("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
        pool.release(db);
        pool.close();
        assertThrows(IllegalStateException.class, pool::take);
        assertEquals(List.of(), testDatabases());
    }
}
