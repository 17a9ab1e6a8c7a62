package io.backupkit.postgres.testing;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresDatabaseExtensionIT {
    @RegisterExtension
    static PostgresDatabaseExtension pg = PostgresDatabaseExtension.builder().build();

    static final Set<String> names = new HashSet<>();
    static PostgresServer firstServer;

    @Test
    @Order(1)
    void eachTestGetsAFreshDatabase(TestDatabase db, PostgresServer server) {
        firstServer = server;
        assertTrue(names.add(db.name()));
        db.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('first')");
        assertEquals("1", db.queryForString("SELECT count(*) FROM t"));
    }

    @Test
    @Order(2)
    void onTheSameServer_withoutTheLastTestsTables(TestDatabase db, PostgresServer server) {
        assertSame(firstServer, server, "one server per test class");
        assertTrue(names.add(db.name()));
        assertEquals("0", db.queryForString("SELECT count(*) FROM pg_tables WHERE tablename = 't'"));
        names.forEach(n -> {
            if (!n.equals(db.name())) {
                assertFalse(server.databaseExists(n), "the previous test's database was dropped");
            }
        });
    }
}
