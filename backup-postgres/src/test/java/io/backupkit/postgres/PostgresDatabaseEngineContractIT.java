package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreTarget;
import io.backupkit.testkit.DatabaseEngineContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine-neutral contract ({@link DatabaseEngineContract}) for PostgreSQL logical backups. */
class PostgresDatabaseEngineContractIT extends DatabaseEngineContract<String> {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static EphemeralPostgres pg;

    @BeforeAll
    static void startPostgres() {
        pg = EphemeralPostgres.start();
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    @Override
    protected String engineName() {
        return "postgresql";
    }

    @Override
    protected String createSampleDatabase() {
        String db = "sample_" + COUNTER.incrementAndGet();
        pg.createDatabase(db);
        pg.execute(db, """
                CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, note text);
                CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers (id), amount numeric(10,2));
                INSERT INTO customers (name, note) SELECT 'customer ' || i, repeat(md5(i::text), 20) FROM generate_series(1, 4000) i;
                INSERT INTO orders (customer_id, amount) SELECT 1 + i % 4000, i * 0.25 FROM generate_series(1, 40000) i;
                """);
        return db;
    }

    @Override
    protected String newTarget() {
        return "target_" + COUNTER.incrementAndGet();
    }

    @Override
    protected void modify(String db) {
        pg.execute(db, "UPDATE customers SET note = 'changed' WHERE id % 100 = 0");
    }

    @Override
    protected Map<String, String> digest(String db) {
        Map<String, String> d = new TreeMap<>(DbDigest.tables(pg, db));
        DbDigest.sequences(pg, db).forEach((k, v) -> d.put("sequence " + k, v));
        return d;
    }

    @Override
    protected boolean exists(String db) {
        return pg.databaseExists(db);
    }

    @Override
    protected BackupSource source(String db) {
        return PgTestSupport.source(pg, db);
    }

    @Override
    protected RestoreTarget target(String db, boolean replaceExisting) {
        PostgresTarget.Builder b = PgTestSupport.target(pg, db);
        if (replaceExisting) {
            b.dropExisting();
        }
        return b.build();
    }

    @Override
    protected Optional<RestoreTarget> scratchTarget() {
        return Optional.of(PgTestSupport.target(pg, "unused").build());
    }

    @Override
    protected void assertNoScratchLeft() {
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"));
    }

    @Override
    protected void dispose(String db) {
        pg.dropDatabase(db);
    }
}
