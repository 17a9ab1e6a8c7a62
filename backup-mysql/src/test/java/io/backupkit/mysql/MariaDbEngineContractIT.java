package io.backupkit.mysql;

import io.backupkit.mysql.testing.EphemeralMariaDb;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreTarget;
import io.backupkit.testkit.DatabaseEngineContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The engine-neutral contract ({@link DatabaseEngineContract}) for MariaDB. */
class MariaDbEngineContractIT extends DatabaseEngineContract<String> {
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static EphemeralMariaDb db;

    @BeforeAll
    static void startServer() {
        db = EphemeralMariaDb.start();
    }

    @AfterAll
    static void stopServer() {
        if (db != null) {
            db.close();
        }
    }

    @Override
    protected String engineName() {
        return "mysql";
    }

    @Override
    protected String createSampleDatabase() {
        String name = "sample_" + COUNTER.incrementAndGet();
        db.createDatabase(name);
        db.execute(name, """
                CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(100) NOT NULL, note text) ENGINE=InnoDB;
                CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, customer_id int NOT NULL, amount decimal(10,2),
                    FOREIGN KEY (customer_id) REFERENCES customers (id)) ENGINE=InnoDB;
                CREATE TABLE visits (customer_id int, at datetime) ENGINE=MyISAM;
                INSERT INTO customers (name, note) SELECT concat('customer ', seq), repeat(md5(seq), 20) FROM seq_1_to_4000;
                INSERT INTO orders (customer_id, amount) SELECT 1 + seq % 4000, seq * 0.25 FROM seq_1_to_40000;
                INSERT INTO visits SELECT 1 + seq % 4000, '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_2000;
                CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
                """);
        return name;
    }

    @Override
    protected String newTarget() {
        return "target_" + COUNTER.incrementAndGet();
    }

    @Override
    protected void modify(String database) {
        db.execute(database, "UPDATE customers SET note = 'changed' WHERE id % 100 = 0");
    }

    @Override
    protected Map<String, String> digest(String database) {
        return MySqlTestSupport.checksums(db, database);
    }

    @Override
    protected boolean exists(String database) {
        return db.databaseExists(database);
    }

    @Override
    protected BackupSource source(String database) {
        return MySqlTestSupport.source(db, database).build();
    }

    @Override
    protected RestoreTarget target(String database, boolean replaceExisting) {
        MySqlTarget.Builder b = MySqlTestSupport.target(db, database);
        if (replaceExisting) {
            b.dropExisting();
        }
        return b.build();
    }

    @Override
    protected Optional<RestoreTarget> scratchTarget() {
        return Optional.of(MySqlTestSupport.target(db, null).build());
    }

    @Override
    protected void assertNoScratchLeft() {
        assertEquals("0", db.queryForString(null, "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'backupkit%'"));
    }

    @Override
    protected void dispose(String database) {
        db.dropDatabase(database);
    }
}
