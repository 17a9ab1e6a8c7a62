package io.backupkit.mysql;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.mysql.testing.EphemeralMariaDb;
import io.backupkit.mysql.testing.MySqlServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 15 acceptance 1 (round trip): a schema with every object kind — InnoDB and MyISAM tables,
 * utf8mb4 and latin1 text, JSON, spatial types with a spatial index and an SRID, generated and
 * invisible columns, every temporal type, FLOAT/DOUBLE with random bit patterns, BIT, ENUM/SET,
 * binary blobs with every byte value, foreign keys (self-referencing and cascading), a partitioned
 * table, a sequence, views on views, routines, triggers (two on one event, ordered), events, odd
 * names — restores into another database with CHECKSUM TABLE equal for every table and SHOW CREATE
 * equal for every object; a whole-server backup with users restores them on another server.
 */
class MariaDbRoundTripIT {
    private static EphemeralMariaDb db;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        db = EphemeralMariaDb.start();
        createEverything(db, "everything");
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    static void createEverything(MySqlServer s, String name) {
        s.createDatabase(name);
        s.execute(name, """
                CREATE TABLE customers (
                    id int AUTO_INCREMENT PRIMARY KEY,
                    email varchar(190) NOT NULL UNIQUE,
                    name varchar(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
                    legacy_name varchar(100) CHARACTER SET latin1 COLLATE latin1_german1_ci,
                    referred_by int NULL,
                    profile json,
                    name_upper varchar(200) AS (upper(name)) VIRTUAL,
                    email_domain varchar(190) AS (substring_index(email, '@', -1)) STORED,
                    secret_note varchar(50) INVISIBLE DEFAULT 'hidden',
                    created datetime(6) NOT NULL DEFAULT current_timestamp(6),
                    CONSTRAINT fk_referral FOREIGN KEY (referred_by) REFERENCES customers (id) ON DELETE SET NULL,
                    CONSTRAINT profile_ok CHECK (json_valid(profile)),
                    FULLTEXT KEY ft_name (name)
                ) ENGINE=InnoDB COMMENT='people who buy ✓' AUTO_INCREMENT=1000;
                CREATE TABLE orders (
                    id bigint unsigned AUTO_INCREMENT PRIMARY KEY,
                    customer_id int NOT NULL,
                    status enum('new','paid','shipped') NOT NULL DEFAULT 'new',
                    flags set('gift','express','fragile'),
                    net decimal(12,2) NOT NULL,
                    tax decimal(12,2) AS (round(net * 0.2, 2)) PERSISTENT,
                    placed date NOT NULL,
                    KEY (customer_id),
                    CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
                ) ENGINE=InnoDB;
                CREATE TABLE places (
                    id int PRIMARY KEY,
                    spot point NOT NULL,
                    area polygon,
                    route linestring,
                    anything geometry REF_SYSTEM_ID=4326,
                    SPATIAL KEY (spot)
                ) ENGINE=InnoDB;
                CREATE TABLE measures (
                    id int PRIMARY KEY,
                    f float, d double, fu float(7,3), dd double(20,10),
                    b bit(13), y year, t time(4), ts timestamp(3) NULL DEFAULT NULL, dt datetime, dz date,
                    tiny tinyint, small smallint unsigned, med mediumint, big bigint, ubig bigint unsigned
                ) ENGINE=InnoDB;
                CREATE TABLE blobs (id int PRIMARY KEY, raw longblob, fixed binary(8), tx mediumtext) ENGINE=InnoDB;
                CREATE TABLE visits (customer_id int, at datetime, page varchar(200), KEY (customer_id)) ENGINE=MyISAM;
                CREATE TABLE archive_log (msg varchar(100)) ENGINE=Aria;
                CREATE TABLE events_by_year (id int NOT NULL, y int NOT NULL, v varchar(20), PRIMARY KEY (id, y))
                    ENGINE=InnoDB PARTITION BY RANGE (y) (PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE);
                CREATE TABLE `Kunden/Übersicht ✓` (`Näme` varchar(20), `größe` int CHECK (`größe` > 0)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
                CREATE TABLE audit (id int AUTO_INCREMENT PRIMARY KEY, what varchar(100), at timestamp DEFAULT current_timestamp) ENGINE=InnoDB;
                CREATE SEQUENCE invoice_no START WITH 1000 INCREMENT BY 5;
                CREATE VIEW v_z_customer_orders AS SELECT c.id, c.name, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
                CREATE VIEW v_a_top AS SELECT * FROM v_z_customer_orders WHERE n > 2;
                CREATE FUNCTION net_total(cid int) RETURNS decimal(14,2) READS SQL DATA
                    RETURN (SELECT coalesce(sum(net), 0) FROM orders WHERE customer_id = cid);
                CREATE PROCEDURE greet(IN who varchar(50), OUT msg varchar(100))
                    COMMENT 'says hello'
                    BEGIN
                        DECLARE prefix varchar(10) DEFAULT 'Grüße, ';
                        SET msg = concat(prefix, who, ' ✓');
                    END;
                CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit (what) VALUES (concat('order ', NEW.id));
                CREATE TRIGGER orders_audit_2 AFTER INSERT ON orders FOR EACH ROW FOLLOWS orders_audit INSERT INTO audit (what) VALUES ('second');
                CREATE TRIGGER customers_lower BEFORE INSERT ON customers FOR EACH ROW SET NEW.email = lower(NEW.email);
                CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DISABLE COMMENT 'not yet'
                    DO DELETE FROM audit WHERE at < now() - INTERVAL 30 DAY;
                CREATE EVENT once_event ON SCHEDULE AT '2031-06-01 12:00:00' ON COMPLETION PRESERVE DISABLE DO INSERT INTO audit (what) VALUES ('once');
                """);
        // the routine's sql_mode and collation must survive: create one under unusual settings
        s.execute(name, "SET SESSION sql_mode = 'ANSI_QUOTES,PIPES_AS_CONCAT,NO_ZERO_DATE'; "
                + "CREATE FUNCTION quoted_label(x int) RETURNS varchar(50) DETERMINISTIC RETURN 'label: ' || x");
        s.execute(name, """
                INSERT INTO customers (email, name, legacy_name, referred_by, profile) SELECT concat('USER', seq, '@Example.com'),
                    concat('Zoë ', seq, ' 😀 ', repeat('ß', seq % 7)), concat('Jörg ', seq), NULL, json_object('tier', seq % 3, 'tags', json_array('a', seq))
                    FROM seq_1_to_800;
                UPDATE customers SET referred_by = id - 1 WHERE id % 3 = 0 AND id > 1000;
                INSERT INTO orders (customer_id, status, flags, net, placed) SELECT 1000 + seq % 800, elt(1 + seq % 3, 'new', 'paid', 'shipped'),
                    IF(seq % 4 = 0, 'gift,fragile', NULL), seq * 1.25, '2024-01-01' + INTERVAL (seq % 500) DAY FROM seq_1_to_5000;
                INSERT INTO places VALUES (1, ST_GeomFromText('POINT(13.4 52.5)'), ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'),
                    ST_GeomFromText('LINESTRING(0 0,1 1,2 1)'), ST_GeomFromText('POINT(1 2)', 4326)),
                    (2, ST_GeomFromText('POINT(-0.5 1e-7)'), NULL, NULL, ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,3 3))', 4326));
                INSERT INTO visits SELECT 1000 + seq % 800, '2026-01-01' + INTERVAL seq MINUTE, concat('/p/', seq) FROM seq_1_to_3000;
                INSERT INTO archive_log SELECT concat('line ', seq) FROM seq_1_to_100;
                INSERT INTO events_by_year VALUES (1, 2023, 'old'), (2, 2024, 'mid'), (3, 2030, 'new');
                INSERT INTO `Kunden/Übersicht ✓` VALUES ('Jörg', 180), ('Zoë', 165), (NULL, 1);
                DO NEXTVAL(invoice_no); DO NEXTVAL(invoice_no);
                """);
        // random bit patterns for FLOAT/DOUBLE, every byte value in blobs, temporal edge values
        Random rnd = new Random(15);
        try (Connection c = s.connect(name);
             PreparedStatement m = c.prepareStatement("INSERT INTO measures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
             PreparedStatement b = c.prepareStatement("INSERT INTO blobs VALUES (?, ?, ?, ?)")) {
            c.createStatement().execute("SET SESSION sql_mode = '', time_zone = '+00:00'");
            for (int i = 1; i <= 500; i++) {
                float f;
                double d;
                do {
                    f = Float.intBitsToFloat(rnd.nextInt());
                } while (Float.isNaN(f) || Float.isInfinite(f));
                do {
                    d = Double.longBitsToDouble(rnd.nextLong());
                } while (Double.isNaN(d) || Double.isInfinite(d));
                m.setInt(1, i);
                m.setFloat(2, f);
                m.setDouble(3, d);
                m.setDouble(4, rnd.nextInt(2_000_000) / 1000.0 - 1000);
                m.setDouble(5, rnd.nextGaussian() * 1e6);
                m.setLong(6, rnd.nextInt(8192));
                m.setInt(7, 1901 + rnd.nextInt(255));
                m.setString(8, (rnd.nextBoolean() ? "-" : "") + rnd.nextInt(838) + ":" + rnd.nextInt(60) + ":" + rnd.nextInt(60) + "." + rnd.nextInt(10000));
                m.setString(9, i % 10 == 0 ? null : "2020-03-" + (1 + rnd.nextInt(28)) + " 12:34:56." + rnd.nextInt(1000));
                m.setString(10, i % 50 == 0 ? "0000-00-00 00:00:00" : "1000-01-01 00:00:00");
                m.setString(11, i % 7 == 0 ? "0000-00-00" : "9999-12-31");
                m.setInt(12, rnd.nextInt(256) - 128);
                m.setInt(13, rnd.nextInt(65536));
                m.setInt(14, rnd.nextInt(1 << 24) - (1 << 23));
                m.setLong(15, rnd.nextLong());
                m.setString(16, Long.toUnsignedString(rnd.nextLong()));
                m.addBatch();
                byte[] raw = new byte[rnd.nextInt(3000)];
                rnd.nextBytes(raw);
                if (i == 1) {
                    raw = new byte[256];
                    for (int k = 0; k < 256; k++) {
                        raw[k] = (byte) k;
                    }
                }
                byte[] fixed = new byte[8];
                rnd.nextBytes(fixed);
                b.setInt(1, i);
                b.setBytes(2, i % 9 == 0 ? null : raw);
                b.setBytes(3, fixed);
                b.setString(4, i % 11 == 0 ? "" : "line1\nline2\ttab\\backslash\r\0nul \\N not null ✓");
                b.addBatch();
            }
            m.executeBatch();
            b.executeBatch();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private Repository repo() {
        return Repository.builder().location(dir.resolve("repo").toString()).password("round-trip".toCharArray()).openOrCreate();
    }

    @Test
    void everyObjectKind_roundTrips_checksumsAndShowCreateEqual() {
        try (Repository repo = repo()) {
            BackupResult result = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, "everything").jobs(3).build())
                    .parallelism(3).build().backup();
            Snapshot s = result.snapshot();
            assertEquals("mysql", s.engine());
            assertEquals("MariaDB", s.metadata().get("flavor"));
            assertEquals("backup-stage", s.metadata().get("consistency"));
            assertTrue(s.stream("data/everything/Kunden%2FÜbersicht ✓").isPresent(), s.streams().toString());

            RestoreManager.builder().repository(repo).snapshot(s.id()).target(MySqlTestSupport.target(db, "everything_copy").build())
                    .parallelism(3).build().restore();

            Map<String, String> before = MySqlTestSupport.checksums(db, "everything");
            assertEquals(10, before.size(), before.toString());
            assertEquals(java.util.Set.of("orders"), MySqlTestSupport.unstableChecksumTables(db, "everything"));
            MySqlTestSupport.assertSameContent(db, "everything", db, "everything_copy");
            assertEquals(showCreate(db, "everything"), showCreate(db, "everything_copy"));
            assertEquals("Grüße, Ann ✓", callGreet(db, "everything_copy"));
            assertEquals("label: 7", db.queryForString("everything_copy", "SELECT quoted_label(7)"));
            // like a server restart, a restore continues after the values the source had cached (a sequence may have gaps)
            long next = Long.parseLong(db.queryForString("everything_copy", "SELECT NEXTVAL(invoice_no)"));
            assertTrue(next >= 1010, "the restored sequence hands out " + next + ", a value the source already gave");

            VerificationReport report = Verifier.builder().repository(repo).level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(MySqlTestSupport.target(db, null).build()).build().verify();
            assertTrue(report.passed(), report.failures().toString());
            assertTrue(report.checks().size() > 12, report.checks().toString());
        } finally {
            db.dropDatabase("everything_copy");
        }
    }

    @Test
    void wholeServer_withUsers_restoresOnAnotherServer() {
        db.execute(null, """
                CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY 'app-secret-pw';
                CREATE ROLE IF NOT EXISTS reporting;
                GRANT SELECT ON everything.* TO reporting;
                GRANT SELECT, INSERT, UPDATE ON everything.orders TO 'app'@'%';
                GRANT reporting TO 'app'@'%';
                """);
        db.createDatabase("second_db");
        db.execute("second_db", "CREATE TABLE t (id int PRIMARY KEY, v varchar(10)); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
        try (Repository repo = repo(); EphemeralMariaDb other = EphemeralMariaDb.builder().serverId(2).start()) {
            BackupResult result = BackupManager.builder().repository(repo).source(MySqlTestSupport.source(db, null).users(true).build())
                    .build().backup();
            assertEquals("server", result.snapshot().metadata().get("scope"));
            assertTrue(result.snapshot().stream("users").isPresent());
            @SuppressWarnings("unchecked")
            List<String> dbs = (List<String>) result.snapshot().metadata().get("databases");
            assertTrue(dbs.containsAll(List.of("everything", "second_db")) && !dbs.contains("mysql"), dbs.toString());

            RestoreManager.builder().repository(repo).snapshot(result.snapshotId())
                    .target(MySqlTestSupport.target(other, null).users().build()).build().restore();
            for (String d : List.of("everything", "second_db")) {
                MySqlTestSupport.assertSameContent(db, d, other, d);
                assertEquals(showCreate(db, d), showCreate(other, d), d);
            }
            assertEquals(grants(db, "SHOW GRANTS FOR 'app'@'%'"), grants(other, "SHOW GRANTS FOR 'app'@'%'"));
            assertEquals(grants(db, "SHOW GRANTS FOR reporting"), grants(other, "SHOW GRANTS FOR reporting"));
            // the restored account logs in with its password
            assertEquals("2", queryAs(other, "app", "app-secret-pw", "SELECT count(*) FROM everything.orders WHERE id <= 2"));
        } finally {
            db.execute(null, "DROP USER IF EXISTS 'app'@'%'; DROP ROLE IF EXISTS reporting");
            db.dropDatabase("second_db");
        }
    }

    private static String callGreet(MySqlServer s, String database) {
        try (Connection c = s.connect(database); var cs = c.prepareCall("{call greet(?, ?)}")) {
            cs.setString(1, "Ann");
            cs.registerOutParameter(2, java.sql.Types.VARCHAR);
            cs.execute();
            return cs.getString(2);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String queryAs(MySqlServer s, String user, String password, String sql) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", user);
        p.setProperty("password", password);
        try (Connection c = new org.mariadb.jdbc.Driver().connect(s.jdbcUrl(null), p); var st = c.createStatement();
             var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> grants(MySqlServer s, String sql) {
        List<String> out = new ArrayList<>();
        s.query(null, sql).forEach(r -> out.add(r.get(0)));
        out.sort(null);
        return out;
    }

    /** kind name → SHOW CREATE text (and the settings it keeps) of every object of {@code database}. */
    static Map<String, String> showCreate(MySqlServer s, String database) {
        Map<String, String> out = new TreeMap<>();
        for (List<String> t : s.query(database, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")) {
            String q = MySqlServer.quoteIdent(t.get(0));
            switch (t.get(1)) {
                case "VIEW" -> out.put("view " + t.get(0), s.query(database, "SHOW CREATE VIEW " + q).get(0).get(1));
                case "SEQUENCE" -> out.put("sequence " + t.get(0), s.query(database, "SHOW CREATE SEQUENCE " + q).get(0).get(1));
                default -> out.put("table " + t.get(0), s.query(database, "SHOW CREATE TABLE " + q).get(0).get(1));
            }
        }
        for (List<String> r : s.query(database, "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()")) {
            List<String> row = s.query(database, "SHOW CREATE " + r.get(1) + " " + MySqlServer.quoteIdent(r.get(0))).get(0);
            out.put(r.get(1).toLowerCase() + " " + r.get(0), row.get(2) + " | sql_mode=" + row.get(1));
        }
        for (List<String> r : s.query(database, "SELECT TRIGGER_NAME, ACTION_ORDER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()")) {
            List<String> row = s.query(database, "SHOW CREATE TRIGGER " + MySqlServer.quoteIdent(r.get(0))).get(0);
            out.put("trigger " + r.get(0), row.get(2) + " | sql_mode=" + row.get(1) + " | order=" + r.get(1));
        }
        for (List<String> r : s.query(database, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()")) {
            List<String> row = s.query(database, "SHOW CREATE EVENT " + MySqlServer.quoteIdent(r.get(0))).get(0);
            out.put("event " + r.get(0), row.get(3) + " | sql_mode=" + row.get(1) + " | tz=" + row.get(2));
        }
        assertFalse(out.isEmpty());
        return out;
    }
}
