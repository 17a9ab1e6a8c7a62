package io.backupkit.mysql;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.TargetExistsException;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 15: every error case of the MySQL engine, each with its message. */
class MySqlErrorsIT {
    private static EphemeralMariaDb db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        db = EphemeralMariaDb.start();
        db.createDatabase("shop");
        db.execute("shop", """
                CREATE TABLE a_first (id int PRIMARY KEY, v text);
                INSERT INTO a_first SELECT seq, repeat('x', 500) FROM seq_1_to_2000;
                CREATE TABLE b_second (id int PRIMARY KEY, v varchar(10));
                INSERT INTO b_second VALUES (1, 'one'), (2, 'two');
                CREATE TABLE c_third (id int PRIMARY KEY, w double, b bit(5), g point);
                INSERT INTO c_third VALUES (1, 1.5e300, b'10101', ST_GeomFromText('POINT(1 2)')), (2, NULL, NULL, NULL);
                """);
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    private Repository repo() {
        return Repository.builder().location(dir.resolve("repo").toString()).password("e".toCharArray()).openOrCreate();
    }

    @Test
    void wrongPassword_saysAuthenticationFailed_withoutThePassword() {
        String wrong = "not-the-password-4711";
        MySqlSource source = MySqlSource.builder().url(db.uri("shop")).user("root").password(wrong.toCharArray()).build();
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> source.backup(new MemoryBackup(2)));
        assertEquals("authentication failed for user root on 127.0.0.1:" + db.port()
                + ": access denied (wrong user or password, or the account may not connect from this host)", e.getMessage());
        assertFalse(source.describe().contains(wrong) || source.toString().contains(wrong));
        MySqlSource inUrl = MySqlSource.builder().url("mysql://root:" + wrong + "@127.0.0.1:" + db.port() + "/shop").build();
        assertFalse(inUrl.describe().contains(wrong), inUrl.describe());
        ConfigurationException e2 = assertThrows(ConfigurationException.class, () -> inUrl.backup(new MemoryBackup(2)));
        assertFalse(e2.getMessage().contains(wrong), e2.getMessage());
    }

    @Test
    void missingDatabase_saysWhichDatabase() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> MySqlTestSupport.source(db, "nope").build().backup(new MemoryBackup(2)));
        assertEquals("database nope does not exist on 127.0.0.1:" + db.port(), e.getMessage());
    }

    @Test
    void serverNotListening_saysConnectionRefused() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        MySqlSource source = MySqlSource.builder().url("mariadb://root@127.0.0.1:" + port + "/shop").password("x".toCharArray()).build();
        EngineException e = assertThrows(EngineException.class, () -> source.backup(new MemoryBackup(2)));
        assertEquals("cannot connect to 127.0.0.1:" + port + ": connection refused (is the MySQL/MariaDB server running and listening "
                + "on that address and port?)", e.getMessage());
    }

    @Test
    void serverTooOld_namesItsVersionAndTheMinimum() {
        try (EphemeralMariaDb old = EphemeralMariaDb.builder().binlog(false).reportedVersion("10.1.48-MariaDB").start()) {
            old.createDatabase("shop");
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> MySqlTestSupport.source(old, "shop").build().backup(new MemoryBackup(2)));
            assertEquals("server version too old: 127.0.0.1:" + old.port() + " runs MariaDB 10.1.48-MariaDB; backupkit needs MariaDB "
                    + "10.3 or later, or MySQL 5.7 or later", e.getMessage());
        }
    }

    @Test
    void targetExists_isRefusedUntouched_withItsName() {
        db.createDatabase("occupied");
        db.execute("occupied", "CREATE TABLE precious (v text); INSERT INTO precious VALUES ('keep me')");
        try (Repository repo = repo()) {
            Snapshot s = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, "shop").build()).build().backup().snapshot();
            TargetExistsException e = assertThrows(TargetExistsException.class, () -> RestoreManager.builder().repository(repo)
                    .snapshot(s.id()).target(MySqlTestSupport.target(db, "occupied").build()).build().restore());
            assertEquals("database occupied on 127.0.0.1:" + db.port(), e.target());
            assertEquals("database occupied already exists on 127.0.0.1:" + db.port() + "; refusing to restore over it (nothing was "
                    + "changed). Restore into a new database name, or use dropExisting() to replace it", e.getMessage());
            assertEquals("keep me", db.queryForString("occupied", "SELECT v FROM precious"));
        } finally {
            db.dropDatabase("occupied");
        }
    }

    @Test
    void missingTool_namesItAndThePackage() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("no-tools"));
        try (Repository repo = repo()) {
            EngineException e = assertThrows(EngineException.class, () -> BinlogReceiver.builder().url(db.uri(null)).user(db.user())
                    .password(db.password().toCharArray()).repository(repo).toolDirectory(empty).build().start());
            assertEquals("mariadb-binlog not found in " + empty + " (nor mysqlbinlog); install the client tools (Debian/Ubuntu: "
                    + "apt-get install mariadb-client; RHEL: dnf install mariadb) or point toolDirectory at the directory holding "
                    + "mariadb-binlog", e.getMessage());
        }
    }

    @Test
    void binlogOff_receiverAndPointInTimeRestoreSayWhy() {
        try (EphemeralMariaDb noLog = EphemeralMariaDb.builder().binlog(false).start(); Repository repo = repo()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> BinlogReceiver.builder().url(noLog.uri(null))
                    .user(noLog.user()).password(noLog.password().toCharArray()).repository(repo).build().start());
            assertEquals("binary logging is off on 127.0.0.1:" + noLog.port() + " (log_bin=OFF): start the server with log_bin (and "
                    + "binlog_format=ROW) to archive binary logs for point-in-time recovery", e.getMessage());

            noLog.createDatabase("shop");
            noLog.execute("shop", "CREATE TABLE t (id int PRIMARY KEY)");
            Snapshot s = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(noLog, "shop").build()).build().backup().snapshot();
            ConfigurationException e2 = assertThrows(ConfigurationException.class, () -> RestoreManager.builder().repository(repo)
                    .snapshot(s.id()).target(MySqlTestSupport.target(noLog, "copy").recoverTo(BinlogRecoveryTarget.latest()).build())
                    .build().restore());
            assertEquals("snapshot " + s.shortId() + " has no binary log position (the server's binary log was off, or the backup user "
                    + "could not read it), so no point-in-time recovery can start from it", e2.getMessage());
            assertFalse(noLog.databaseExists("copy"));
        }
    }

    @Test
    void withoutReloadPrivilege_oneSessionReadsEverything() {
        db.execute(null, "CREATE USER IF NOT EXISTS 'nolock'@'%' IDENTIFIED BY 'nolock-pw'; "
                + "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO 'nolock'@'%'");
        try {
            MemoryBackup ctx = new MemoryBackup(3);
            MySqlSource.builder().url(db.uri("shop")).user("nolock").password("nolock-pw".toCharArray()).jobs(3).build().backup(ctx);
            assertEquals("single-session", ctx.metadata.get("consistency"));
            assertTrue(String.valueOf(ctx.metadata.get("consistencyNote")).startsWith("the backup user lacks the RELOAD privilege"),
                    String.valueOf(ctx.metadata.get("consistencyNote")));
            assertTrue(ctx.streams.containsKey("data/shop/a_first") && ctx.streams.containsKey("data/shop/c_third"));
        } finally {
            db.execute(null, "DROP USER IF EXISTS 'nolock'@'%'");
        }
    }

    @Test
    void ddlOnAnUnreadTableDuringTheBackup_failsWithAClearMessage() throws Exception {
        db.createDatabase("ddl");
        db.execute("ddl", "CREATE TABLE a_big (id int PRIMARY KEY, v text); INSERT INTO a_big SELECT seq, repeat('y', 1000) FROM seq_1_to_3000;"
                + "CREATE TABLE z_small (id int PRIMARY KEY, v int); INSERT INTO z_small VALUES (1, 1)");
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch altered = new CountDownLatch(1);
        AtomicBoolean first = new AtomicBoolean(true);
        MemoryBackup ctx = new MemoryBackup(1, stream -> {
            if (stream.equals("data/ddl/a_big") && first.getAndSet(false)) {
                writing.countDown();
                try {
                    altered.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread ddl = new Thread(() -> {
            try {
                writing.await(60, TimeUnit.SECONDS);
                db.execute("ddl", "ALTER TABLE z_small ADD COLUMN extra int, ALGORITHM=COPY");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                altered.countDown();
            }
        });
        ddl.start();
        try {
            EngineException e = assertThrows(EngineException.class, () -> MySqlTestSupport.source(db, "ddl").jobs(1).build().backup(ctx));
            assertTrue(e.getMessage().startsWith("table ddl.z_small was changed by DDL (ALTER, TRUNCATE, DROP, …) after the backup's "
                    + "snapshot began, so its rows cannot be read consistently; run the backup again when the schema change is done"),
                    e.getMessage());
        } finally {
            ddl.join(60_000);
            db.dropDatabase("ddl");
        }
    }

    @Test
    void serverKilledMidBackup_leavesNoSnapshot() {
        try (EphemeralMariaDb doomed = EphemeralMariaDb.builder().binlog(false).start(); Repository repo = repo()) {
            doomed.createDatabase("big");
            doomed.execute("big", "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT seq, concat(sha2(seq, 512), "
                    + "repeat(md5(seq), 30)) FROM seq_1_to_20000");
            AtomicBoolean killed = new AtomicBoolean();
            BackupException e = assertThrows(BackupException.class, () -> BackupManager.builder().repository(repo)
                    .source(MySqlTestSupport.source(doomed, "big").build()).listener(ev -> {
                        if ("data/big/t".equals(ev.stream()) && ev.bytesRead() > 0 && !killed.getAndSet(true)) {
                            doomed.kill();
                        }
                    }).build().backup());
            assertTrue(killed.get());
            assertInstanceOf(EngineException.class, e, e.toString());
            assertTrue(e.getMessage().contains("big.t") || e.getMessage().contains(doomed.port() + "/big"), e.getMessage());
            assertEquals(List.of(), repo.snapshots().list(), "a failed backup lists no snapshot");
        }
    }

    @Test
    void restoreOptions_tablesSchemaOnlyAndInsertsWhenLocalInfileIsOff() {
        try (Repository repo = repo()) {
            Snapshot s = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, "shop").build()).build().backup().snapshot();
            ConfigurationException unknown = assertThrows(ConfigurationException.class, () -> RestoreManager.builder().repository(repo)
                    .snapshot(s.id()).target(MySqlTestSupport.target(db, "picked").tables("nope").build()).build().restore());
            assertEquals("table nope is not in snapshot " + s.shortId() + "; it has [shop.a_first, shop.b_second, shop.c_third]",
                    unknown.getMessage());

            RestoreManager.builder().repository(repo).snapshot(s.id()).target(MySqlTestSupport.target(db, "picked").tables("b_second", "shop.c_third")
                    .build()).build().restore();
            assertEquals(List.of(List.of("b_second"), List.of("c_third")), db.query("picked", "SHOW TABLES"));
            assertEquals(MySqlTestSupport.checksums(db, "shop").get("c_third"), MySqlTestSupport.checksums(db, "picked").get("c_third"));

            RestoreManager.builder().repository(repo).snapshot(s.id()).target(MySqlTestSupport.target(db, "empty").schemaOnly().build())
                    .build().restore();
            assertEquals("0", db.queryForString("empty", "SELECT count(*) FROM a_first"));

            db.execute(null, "SET GLOBAL local_infile = 0");
            try {
                RestoreManager.builder().repository(repo).snapshot(s.id()).target(MySqlTestSupport.target(db, "inserted").build()).build().restore();
            } finally {
                db.execute(null, "SET GLOBAL local_infile = 1");
            }
            assertEquals(MySqlTestSupport.checksums(db, "shop"), MySqlTestSupport.checksums(db, "inserted"));
        } finally {
            for (String d : List.of("picked", "empty", "inserted")) {
                db.dropDatabase(d);
            }
        }
    }

    @Test
    void wholeServerSnapshotIntoADatabaseUrl_isRefused() {
        db.createDatabase("other");
        try (Repository repo = repo()) {
            Snapshot s = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, null).build()).build().backup().snapshot();
            @SuppressWarnings("unchecked")
            List<String> dbs = (List<String>) s.metadata().get("databases");
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> RestoreManager.builder().repository(repo)
                    .snapshot(s.id()).target(MySqlTestSupport.target(db, "one").build()).build().restore());
            assertEquals("snapshot " + s.shortId() + " holds " + dbs.size() + " databases " + dbs + "; restore it into a server URL "
                    + "without a database (they keep their names), or back up one database", e.getMessage());
        } finally {
            db.dropDatabase("other");
        }
    }

    @Test
    void engineOptions_unknownAndMalformed_areRefused() {
        MySqlEngine engine = new MySqlEngine();
        assertEquals("unknown MySQL source option 'bogus'; known: [jobs, lock, lockNonTransactional, lockWaitSeconds, password, user, users]",
                assertThrows(ConfigurationException.class, () -> engine.source(db.uri("shop"), Map.of("bogus", "1"))).getMessage());
        assertEquals("option lock must be true or false, was 'maybe'",
                assertThrows(ConfigurationException.class, () -> engine.source(db.uri("shop"), Map.of("lock", "maybe"))).getMessage());
        assertEquals("a point-in-time restore replays whole databases; it cannot be combined with schemaOnly() or tables()",
                assertThrows(ConfigurationException.class, () -> MySqlTestSupport.target(db, "x").schemaOnly()
                        .recoverTo(BinlogRecoveryTarget.latest()).build()).getMessage());
    }
}
