package io.backupkit.postgres.testing;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runs only where Docker runs (skipped here: no Docker engine on the build machine). */
@Testcontainers(disabledWithoutDocker = true)
class ContainerPostgresIT {

    @Test
    void startsAContainer_andServesDatabases() {
        try (ContainerPostgres pg = ContainerPostgres.start("postgres:15-alpine")) {
            assertEquals(15, pg.majorVersion());
            pg.createDatabase("shop");
            pg.execute("shop", "CREATE TABLE t AS SELECT 1 AS one");
            assertEquals("1", pg.queryForString("shop", "SELECT one FROM t"));
        }
    }
}
