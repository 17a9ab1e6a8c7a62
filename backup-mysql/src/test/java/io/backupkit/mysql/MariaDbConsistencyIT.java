package io.backupkit.mysql;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 acceptance 1 (consistency): while writers move money between accounts spread over four
 * tables (each transfer one transaction that also appends to a ledger), a backup read by four
 * parallel sessions restores a state where the total is unchanged and every balance equals what
 * the ledger says: every session saw the same instant. A MyISAM log written right after an InnoDB
 * one is read while the backup lock still holds, so it matches the snapshot too.
 */
class MariaDbConsistencyIT {
    private static final int ACCOUNTS = 100;
    private static final int TABLES = 4;
    private static EphemeralMariaDb db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        db = EphemeralMariaDb.start();
        db.createDatabase("bank");
        StringBuilder ddl = new StringBuilder();
        for (int t = 0; t < TABLES; t++) {
            ddl.append("CREATE TABLE acct_").append(t).append(" (id int PRIMARY KEY, balance bigint NOT NULL, pad varchar(2000)) ENGINE=InnoDB;\n");
            ddl.append("INSERT INTO acct_").append(t).append(" SELECT seq, 1000, repeat('x', 2000) FROM seq_").append(t).append("_to_")
                    .append(ACCOUNTS - 1).append(" WHERE seq % ").append(TABLES).append(" = ").append(t).append(";\n");
        }
        ddl.append("""
                CREATE TABLE ledger (id bigint AUTO_INCREMENT PRIMARY KEY, src int NOT NULL, dst int NOT NULL, amount int NOT NULL) ENGINE=InnoDB;
                CREATE TABLE filler (id int PRIMARY KEY, body text) ENGINE=InnoDB;
                INSERT INTO filler SELECT seq, concat(sha2(seq, 512), repeat(md5(seq), 40)) FROM seq_1_to_12000;
                CREATE TABLE inno_log (n bigint PRIMARY KEY) ENGINE=InnoDB;
                CREATE TABLE myi_log (n bigint PRIMARY KEY) ENGINE=MyISAM;
                """);
        db.execute("bank", ddl.toString());
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    @Test
    void parallelBackupUnderTransfers_isOneSnapshot() throws Exception {
        check(4, true);
    }

    @Test
    void withoutTheLock_oneSessionIsStillOneSnapshot() throws Exception {
        check(4, false);
    }

    private void check(int jobs, boolean lock) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        AtomicLong transfers = new AtomicLong();
        AtomicLong logged = new AtomicLong(Long.parseLong(db.queryForString("bank", "SELECT coalesce(max(n), 0) FROM inno_log")));
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            long seed = w;
            writers.add(new Thread(() -> transfer(seed, stop, transfers, writerFailure), "transfers-" + w));
        }
        writers.add(new Thread(() -> logPairs(stop, logged, writerFailure), "log-pairs"));
        writers.forEach(Thread::start);
        String restored = "bank_restored_" + (lock ? "locked" : "unlocked");
        try (Repository repo = Repository.builder().location(dir.resolve("repo").toString()).password("c".toCharArray()).openOrCreate()) {
            waitFor(() -> transfers.get() > 50, "writers to start");
            long before = transfers.get();
            BackupResult result = BackupManager.builder().repository(repo)
                    .source(MySqlTestSupport.source(db, "bank").jobs(jobs).lock(lock).build()).parallelism(jobs).build().backup();
            long during = transfers.get() - before;
            waitFor(() -> transfers.get() > before + during + 20, "more transfers after the backup");
            stop.set(true);
            for (Thread t : writers) {
                t.join(60_000);
            }
            assertNull(writerFailure.get(), () -> "writer failed: " + writerFailure.get());
            assertTrue(during > 10, "the writers committed only " + during + " transfers while the backup ran");
            assertEquals(lock ? "backup-stage" : "single-session", result.snapshot().metadata().get("consistency"));

            RestoreManager.builder().repository(repo).snapshot(result.snapshotId()).target(MySqlTestSupport.target(db, restored).build())
                    .build().restore();
            StringBuilder union = new StringBuilder();
            for (int t = 0; t < TABLES; t++) {
                union.append(t == 0 ? "" : " UNION ALL ").append("SELECT id, balance FROM acct_").append(t);
            }
            assertEquals(Long.toString(ACCOUNTS * 1000L), db.queryForString(restored, "SELECT sum(balance) FROM (" + union + ") a"),
                    "money was created or lost: the tables come from different instants");
            String mismatches = db.queryForString(restored, "SELECT count(*) FROM (" + union + ") a WHERE a.balance <> 1000 "
                    + "+ (SELECT coalesce(sum(amount), 0) FROM ledger WHERE dst = a.id) - (SELECT coalesce(sum(amount), 0) FROM ledger WHERE src = a.id)");
            assertEquals("0", mismatches, "balances and ledger come from different instants");
            long ledgerRows = Long.parseLong(db.queryForString(restored, "SELECT count(*) FROM ledger"));
            long sourceRows = Long.parseLong(db.queryForString("bank", "SELECT count(*) FROM ledger"));
            assertTrue(ledgerRows > 0 && ledgerRows < sourceRows, ledgerRows + " of " + sourceRows);
            if (lock) {
                long inno = Long.parseLong(db.queryForString(restored, "SELECT count(*) FROM inno_log"));
                long myi = Long.parseLong(db.queryForString(restored, "SELECT count(*) FROM myi_log"));
                assertTrue(inno - myi == 0 || inno - myi == 1, "the MyISAM table was read at another instant: InnoDB log "
                        + inno + " rows, MyISAM log " + myi);
            }
        } finally {
            stop.set(true);
            db.dropDatabase(restored);
        }
    }

    private static void transfer(long seed, AtomicBoolean stop, AtomicLong count, AtomicReference<Throwable> failure) {
        Random rnd = new Random(seed);
        try (Connection c = db.connect("bank")) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                int a = rnd.nextInt(ACCOUNTS);
                int b = rnd.nextInt(ACCOUNTS);
                if (a == b) {
                    continue;
                }
                int amount = 1 + rnd.nextInt(50);
                try (PreparedStatement debit = c.prepareStatement("UPDATE acct_" + (a % TABLES) + " SET balance = balance - ? WHERE id = ?");
                     PreparedStatement credit = c.prepareStatement("UPDATE acct_" + (b % TABLES) + " SET balance = balance + ? WHERE id = ?");
                     PreparedStatement log = c.prepareStatement("INSERT INTO ledger (src, dst, amount) VALUES (?, ?, ?)")) {
                    debit.setInt(1, amount);
                    debit.setInt(2, a);
                    debit.executeUpdate();
                    credit.setInt(1, amount);
                    credit.setInt(2, b);
                    credit.executeUpdate();
                    log.setInt(1, a);
                    log.setInt(2, b);
                    log.setInt(3, amount);
                    log.executeUpdate();
                    c.commit();
                    count.incrementAndGet();
                } catch (SQLException e) {
                    c.rollback();
                    if (e.getErrorCode() != 1213 && e.getErrorCode() != 1205) {
                        throw e;
                    }
                    // deadlock between the two writers: retry another transfer
                }
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static void logPairs(AtomicBoolean stop, AtomicLong n, AtomicReference<Throwable> failure) {
        try (Connection c = db.connect("bank"); PreparedStatement inno = c.prepareStatement("INSERT INTO inno_log VALUES (?)");
             PreparedStatement myi = c.prepareStatement("INSERT INTO myi_log VALUES (?)")) {
            while (!stop.get()) {
                long i = n.incrementAndGet();
                inno.setLong(1, i);
                inno.executeUpdate();
                myi.setLong(1, i);
                myi.executeUpdate();
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }
}
