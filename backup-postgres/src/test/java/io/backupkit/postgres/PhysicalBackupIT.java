package io.backupkit.postgres;

import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.RestoreResult;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Physical base backups of a whole cluster (several databases, a tablespace, an unlogged table) by
 * both methods, restored into new data directories and started: every table equals the source at
 * backup time.
 */
class PhysicalBackupIT {
    static EphemeralPostgres pg;
    static PhysicalFixture fx;
    static Path tablespace;

    @BeforeAll
    static void start() {
        fx = new PhysicalFixture();
        pg = EphemeralPostgres.builder().setting("max_wal_senders", "4").start();
        pg.createDatabase("shop");
        PgTestSupport.createBroadSchema(pg, "shop");
        pg.createDatabase("other");
        pg.execute("other", "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT i, md5(i::text) FROM generate_series(1, 5000) i");
        tablespace = pg.createTablespace("fast");
        pg.execute("shop", "CREATE TABLE shop.hot (id int PRIMARY KEY, v text) TABLESPACE fast; "
                + "INSERT INTO shop.hot SELECT i, repeat('x', 100) FROM generate_series(1, 20000) i");
    }

    @AfterAll
    static void stop() {
        pg.close();
        fx.close();
    }

    private static Map<String, String> digest(EphemeralPostgres server, String db) {
        Map<String, String> d = new java.util.TreeMap<>(DbDigest.tables(server, db));
        // unlogged tables come back empty from any physical backup: only their init fork is copied
        d.remove("shop.cache");
        return d;
    }

    @Test
    void lowLevel_clusterWithTablespace_restoredToConsistency_equalsSource() throws Exception {
        Map<String, String> shop = digest(pg, "shop");
        Map<String, String> other = digest(pg, "other");
        BackupResult b = fx.backup(PhysicalFixture.source(pg).method(PostgresPhysicalSource.Method.LOW_LEVEL).build());
        Snapshot s = b.snapshot();
        assertEquals("physical", s.metadata().get("kind"));
        assertEquals("low-level", s.metadata().get("method"));
        assertEquals(pg.queryForString("postgres", "SELECT system_identifier::text FROM pg_control_system()"), s.metadata().get("systemId"));
        assertEquals(1, s.metadata().get("timeline"));
        assertEquals(List.of("fast"), ((List<?>) s.metadata().get("tablespaces")).stream().map(m -> ((Map<?, ?>) m).get("name")).toList());
        assertTrue(s.streams().stream().anyMatch(x -> x.name().matches("\\d+\\.tar")), "a tablespace stream: " + s.streams());
        assertTrue(s.stream("pg_wal.tar").isPresent() && s.stream("backup_label.tar").isPresent());
        assertEquals("files.tsv", s.metadata().get("fileList"));
        List<String> files = List.of(readStream(s.id(), "files.tsv").split("\n"));
        assertEquals("area\ttype\tsize\tmtime\tmode\tpath", files.get(0));
        String oid = tablespaceOid();
        assertTrue(files.stream().anyMatch(l -> l.startsWith("base\tf\t3\t") && l.endsWith("\tPG_VERSION")), files.toString());
        assertTrue(files.stream().anyMatch(l -> l.startsWith("base\tl\t") && l.endsWith("pg_tblspc/" + oid + " -> " + tablespace)));
        assertTrue(files.stream().anyMatch(l -> l.startsWith(oid + "\tf\t") && l.contains("\tPG_15_")), "tablespace files listed");
        assertTrue(files.stream().anyMatch(l -> l.endsWith("\tbackup_label")) && files.stream().anyMatch(l -> l.contains("\tpg_wal/0000")));
        // written after the backup: not in a restore to consistency
        pg.execute("shop", "INSERT INTO shop.hot VALUES (999999, 'after')");

        Path pgdata = fx.path("lowlevel/data");
        Path ts = fx.path("lowlevel/fast");
        fx.dir("lowlevel");
        RestoreResult r = fx.restore(s.id(), PostgresDataDirectoryTarget.builder().pgdata(pgdata)
                .recoveryTarget(RecoveryTarget.immediate()).targetAction(RecoveryTargetAction.PROMOTE)
                .tablespaceMapping(tablespace.toString(), ts).build());
        assertTrue(Files.exists(pgdata.resolve("recovery.signal")));
        assertEquals(ts.toString(), Files.readSymbolicLink(pgdata.resolve("pg_tblspc").resolve(tablespaceOid())).toString());
        String auto = Files.readString(pgdata.resolve("postgresql.auto.conf"));
        assertTrue(auto.contains("recovery_target = 'immediate'") && auto.contains("archive_mode = 'off'"), auto);
        assertTrue(r.bytesRestored() > 0);
        try (EphemeralPostgres restored = PhysicalFixture.startRestored(pg, pgdata)) {
            waitForPromotion(restored);
            assertEquals(shop, digest(restored, "shop"));
            assertEquals(other, digest(restored, "other"));
            assertEquals("0", restored.queryForString("shop", "SELECT count(*) FROM shop.hot WHERE id = 999999"));
            assertEquals("0", restored.queryForString("shop", "SELECT count(*) FROM shop.cache"));
            assertEquals("2", restored.queryForString("postgres", "SELECT timeline_id FROM pg_control_checkpoint()"),
                    "promotion at the consistency point starts timeline 2");
        }
        pg.execute("shop", "DELETE FROM shop.hot WHERE id = 999999");
    }

    @Test
    void pgBasebackup_clusterWithTablespace_isRefusedWithTheAlternative() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> fx.backup(PhysicalFixture.source(pg).method(PostgresPhysicalSource.Method.PG_BASEBACKUP).build()));
        assertTrue(e.getMessage().contains("pg_basebackup can stream only a cluster without user tablespaces")
                && e.getMessage().contains("fast (" + tablespace + ")") && e.getMessage().contains("-o method=low-level"), e.getMessage());
    }

    @Test
    void pgBasebackup_streamedCluster_restoredToConsistency_equalsSource() throws Exception {
        try (EphemeralPostgres plain = EphemeralPostgres.start()) {
            plain.createDatabase("shop");
            PgTestSupport.createBroadSchema(plain, "shop");
            Map<String, String> shop = digest(plain, "shop");
            BackupResult b = fx.backup(PhysicalFixture.source(plain).method(PostgresPhysicalSource.Method.PG_BASEBACKUP).build());
            Snapshot s = b.snapshot();
            assertEquals("pg_basebackup", s.metadata().get("method"));
            assertEquals(List.of("base.tar", "files.tsv"), s.streams().stream().map(x -> x.name()).toList());
            Path pgdata = fx.path("streamed/data");
            fx.dir("streamed");
            fx.restore(s.id(), PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.immediate())
                    .targetAction(RecoveryTargetAction.PROMOTE).build());
            try (EphemeralPostgres restored = PhysicalFixture.startRestored(plain, pgdata)) {
                waitForPromotion(restored);
                assertEquals(shop, digest(restored, "shop"));
            }
        }
    }

    @Test
    void restore_intoNonEmptyDirectory_isRefusedAndTouchesNothing() throws Exception {
        BackupResult b = fx.backup(PhysicalFixture.source(pg).build());
        Path pgdata = fx.dir("nonempty");
        Files.writeString(pgdata.resolve("keep.txt"), "mine");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> fx.restore(b.snapshotId(),
                PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.immediate())
                        .tablespaceMapping("fast", fx.path("nonempty-ts")).build()));
        assertEquals("the data directory " + pgdata + " is not empty (it holds keep.txt); restore only into an empty or new directory. "
                + "Nothing was written.", e.getMessage());
        assertEquals(List.of(pgdata.resolve("keep.txt")), Files.list(pgdata).toList());
        assertFalse(Files.exists(fx.path("nonempty-ts")));
        assertFalse(Files.exists(fx.path("nonempty.backupkit")));
    }

    @Test
    void comprehensiveVerification_startsAThrowawayServerAndRunsAmcheck() {
        BackupResult b = fx.backup(PhysicalFixture.source(pg).build());
        VerificationReport report = Verifier.builder().repository(fx.repo).snapshot(b.snapshotId()).level(VerificationLevel.COMPREHENSIVE)
                .scratchTarget(PostgresDataDirectoryTarget.builder().scratchDirectory(fx.dir("verify")).build()).build().verify();
        assertTrue(report.passed(), report.failures().toString());
        List<String> names = report.checks().stream().map(VerificationCheck::name).toList();
        assertTrue(names.containsAll(List.of("physical restore", "consistency", "system identifier", "amcheck")), names.toString());
        assertEquals(List.of(), listing(fx.path("verify")), "the scratch directory is removed");
    }

    @Test
    void comprehensiveVerification_failsOnAnIndexCorruptedOnTheSource() throws Exception {
        try (EphemeralPostgres bad = EphemeralPostgres.start()) {
            bad.createDatabase("app");
            bad.execute("app", "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i; "
                    + "CHECKPOINT");
            Path index = bad.dataDirectory().resolve(bad.queryForString("app", "SELECT pg_relation_filepath('t_pkey')"));
            bad.stopServer();
            // the first leaf page (block 1): give its third item a key far larger than its neighbours'
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(index.toFile(), "rw")) {
                long page = 8192;
                f.seek(page + 24 + 2 * 4);
                int lp = Integer.reverseBytes(f.readInt());
                int offset = lp & 0x7FFF;
                f.seek(page + offset + 8);
                f.writeInt(Integer.reverseBytes(0x7FFFFFF0));
            }
            bad.restart();
            BackupResult b = fx.backup(PhysicalFixture.source(bad).build());
            VerificationReport report = Verifier.builder().repository(fx.repo).snapshot(b.snapshotId()).level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(PostgresDataDirectoryTarget.builder().scratchDirectory(fx.dir("verify-bad")).build()).build().verify();
            assertFalse(report.passed());
            VerificationCheck amcheck = report.failures().get(0);
            assertEquals("amcheck", amcheck.name(), report.failures().toString());
            assertTrue(amcheck.message().startsWith("pg_amcheck reports corruption: ") && amcheck.message().contains("t_pkey"),
                    amcheck.message());
        }
    }

    /** The plaintext of one stream of a snapshot, through a restore target that only reads it. */
    private static String readStream(String snapshot, String stream) {
        StringBuilder out = new StringBuilder();
        io.backupkit.RestoreManager.builder().repository(fx.repo).snapshot(snapshot).target(new io.backupkit.spi.RestoreTarget() {
            @Override
            public String engine() {
                return PostgresEngine.NAME;
            }

            @Override
            public String describe() {
                return "a reader of " + stream;
            }

            @Override
            public io.backupkit.RestorePlan plan(io.backupkit.spi.RestoreContext context) {
                return new io.backupkit.RestorePlan(describe(), List.of(), 0);
            }

            @Override
            public void restore(io.backupkit.spi.RestoreContext context) {
                try (var in = context.openStream(stream)) {
                    out.append(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }).build().restore();
        return out.toString();
    }

    private static List<Path> listing(Path dir) {
        try (var s = Files.list(dir)) {
            return s.toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String tablespaceOid() {
        return pg.queryForString("postgres", "SELECT oid::text FROM pg_tablespace WHERE spcname = 'fast'");
    }

    private static String inRecovery(EphemeralPostgres server) {
        try {
            return server.queryForString("postgres", "SELECT pg_is_in_recovery()");
        } catch (IllegalStateException e) {
            throw new AssertionError("the restored server failed: " + e.getMessage() + "\nserver log:\n" + server.logTail(4000), e);
        }
    }

    static void waitForPromotion(EphemeralPostgres server) throws InterruptedException {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (!"f".equals(inRecovery(server))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the restored server did not promote: " + server.logTail(3000));
            }
            Thread.sleep(100);
        }
    }
}
