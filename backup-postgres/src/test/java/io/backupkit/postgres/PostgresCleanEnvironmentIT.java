package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tools a backup starts get a clean, explicit environment (issue 9, item 15): a JVM whose own
 * environment is full of libpq variables that would redirect or break pg_dump, psql and
 * pg_restore still backs up and restores exactly.
 */
class PostgresCleanEnvironmentIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
        pg.createDatabase("shop");
        pg.execute("postgres", "ALTER DATABASE shop SET work_mem = '9MB'");
        pg.execute("shop", """
                CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text, at timestamptz, f float8);
                INSERT INTO notes (body, at, f) SELECT 'note ✓ 日本 ' || i, timestamptz '2024-02-03 04:05:06+00' + i * interval '1 min',
                    i / 3.0 FROM generate_series(1, 2000) i;
                CREATE TABLE "Größe" (id int, v text);
                INSERT INTO "Größe" VALUES (1, 'ä'), (2, 'ö');
                """);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    /** Variables an operator's shell, a container image or a CI runner may well set. */
    static Map<String, String> hostile() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGOPTIONS", "-c default_transaction_read_only=on -c statement_timeout=1 -c DateStyle=SQL,DMY -c extra_float_digits=-10");
        env.put("PGSSLMODE", "require");
        env.put("PGCLIENTENCODING", "LATIN1");
        env.put("PGHOST", "/nonexistent");
        env.put("PGPORT", "1");
        env.put("PGUSER", "nobody");
        env.put("PGDATABASE", "nowhere");
        env.put("PGSERVICE", "no_such_service");
        env.put("PGTARGETSESSIONATTRS", "read-only");
        env.put("PGTZ", "Pacific/Kiritimati");
        env.put("PGDATESTYLE", "German");
        env.put("PGAPPNAME", "hostile");
        env.put("PGSSLROOTCERT", "/nonexistent/root.crt");
        return env;
    }

    @Test
    void hostileLibpqVariablesInTheJvmEnvironment_doNotReachTheTools() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                HostileEnvironmentMain.class.getName(), pg.jdbcUrl("shop"), pg.uri("postgres"), "shop_copy", pg.user())
                .redirectErrorStream(true);
        pb.environment().putAll(hostile());
        pb.environment().put("BACKUPKIT_TEST_DB_PASSWORD", pg.password());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child JVM finished");
        assertEquals(0, p.exitValue(), "backup and restore in a hostile environment:\n" + out);

        assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "shop_copy"));
        assertEquals(DbDigest.sequences(pg, "shop"), DbDigest.sequences(pg, "shop_copy"));
        assertEquals(List.of(List.of("{work_mem=9MB}")), pg.query("postgres", "SELECT setconfig::text FROM pg_db_role_setting s "
                + "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'shop_copy'"));
        assertEquals("ä", pg.queryForString("shop_copy", "SELECT v FROM \"Größe\" WHERE id = 1"));
        pg.dropDatabase("shop_copy");
    }
}
