package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every storage (local disk, S3, …) must do for the PostgreSQL engine: back a small database
 * up through the whole pipeline, restore it into a new database and find the same content, and
 * verify it at every level. Published in backup-postgres's test jar; a storage module reruns it:
 *
 * <pre>{@code
 * class S3EngineContractIT extends EngineContractTest {
 *     protected Repository openRepository() {
 *         return Repository.builder().storage(s3Storage()).password("pw".toCharArray()).openOrCreate();
 *     }
 * }
 * }</pre>
 */
public abstract class EngineContractTest {
    private static EphemeralPostgres pg;
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private Repository repository;
    private String db;

    /** A repository for one test (new or empty is best); closed by the test. */
    protected abstract Repository openRepository();

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

    @BeforeEach
    void setUp() {
        repository = openRepository();
        db = "contract_" + COUNTER.incrementAndGet();
        pg.createDatabase(db);
        pg.execute(db, """
                CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, note text);
                CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers (id), amount numeric(10,2));
                INSERT INTO customers (name, note) SELECT 'customer ' || i, repeat(md5(i::text), 20) FROM generate_series(1, 2000) i;
                INSERT INTO orders (customer_id, amount) SELECT 1 + i % 2000, i * 0.25 FROM generate_series(1, 20000) i;
                SELECT lo_from_bytea(0, 'a large object'::bytea);
                """);
    }

    @AfterEach
    void tearDown() {
        if (repository != null) {
            repository.close();
        }
        pg.dropDatabase(db);
        pg.dropDatabase(db + "_restored");
    }

    @Test
    void backup_restore_sameContent() {
        BackupResult result = BackupManager.builder()
                .repository(repository)
                .source(PgTestSupport.source(pg, db))
                .parallelism(2)
                .tag("contract", "engine")
                .build()
                .backup();
        Snapshot listed = repository.snapshots().get(result.snapshot().id());
        assertEquals("postgresql", listed.engine());
        assertEquals(db, listed.metadata().get("database"));
        assertTrue(listed.stream("pre-data").isPresent() && listed.stream("post-data").isPresent(), listed.streams().toString());

        RestoreManager.builder()
                .repository(repository)
                .snapshot(result.snapshot().id())
                .target(PgTestSupport.target(pg, db + "_restored").build())
                .parallelism(2)
                .build()
                .restore();

        assertEquals(DbDigest.tables(pg, db), DbDigest.tables(pg, db + "_restored"));
        assertEquals(DbDigest.sequences(pg, db), DbDigest.sequences(pg, db + "_restored"));
        assertEquals(DbDigest.largeObjects(pg, db), DbDigest.largeObjects(pg, db + "_restored"));
    }

    @Test
    void verify_passesAtEveryLevel() {
        BackupManager.builder().repository(repository).source(PgTestSupport.source(pg, db)).parallelism(2).build().backup();
        for (VerificationLevel level : VerificationLevel.values()) {
            VerificationReport report = Verifier.builder()
                    .repository(repository)
                    .level(level)
                    .scratchTarget(PgTestSupport.target(pg, "unused").build())
                    .build()
                    .verify();
            assertTrue(report.passed(), level + ": " + report.failures());
            assertEquals(1.0, report.passRate(), 1e-9);
        }
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"));
    }
}
