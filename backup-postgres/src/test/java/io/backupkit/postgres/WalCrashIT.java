package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance 4 (crash safety): the receiver and the asynchronous pusher are killed with SIGKILL at
 * random points under load. After every kill, nothing PostgreSQL was told is safe is missing from the
 * archive (a slot's restart position never passes the gap-free archived WAL; no .done segment is
 * missing), and once restarted the archive has no gap. Kills per run: -Dbackupkit.walCrash.kills (default 3, ~1 min for both tests on a loaded 2-core machine; raise it for a longer campaign).
 */
class WalCrashIT {
    static final int KILLS = Integer.getInteger("backupkit.walCrash.kills", 3);
    static final long SEED = Long.getLong("backupkit.walCrash.seed", 20261130L);

    @TempDir
    Path dir;

    /** Writes WAL until stopped: batches of rows, a segment switch now and then. */
    static Thread load(EphemeralPostgres pg, AtomicBoolean stop, int rows, int switchEvery) {
        pg.execute("postgres", "CREATE TABLE IF NOT EXISTS crash (id bigserial PRIMARY KEY, pad text)");
        Thread t = new Thread(() -> {
            int n = 0;
            while (!stop.get()) {
                try (Connection c = pg.connect("postgres"); Statement st = c.createStatement()) {
                    while (!stop.get()) {
                        st.execute("INSERT INTO crash (pad) SELECT repeat(md5(random()::text), 8) FROM generate_series(1, " + rows + ")");
                        if (++n % switchEvery == 0) {
                            st.execute("SELECT pg_switch_wal()");
                        }
                    }
                } catch (Exception e) {
                    // the server may be restarting; go on
                }
            }
        }, "wal-load");
        t.setDaemon(true);
        t.start();
        return t;
    }

    static long systemId(EphemeralPostgres pg) {
        return Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
    }

    @Test
    void aReceiverKilledAtRandomPoints_neverAcknowledgesUnstoredWal_andLeavesNoGap() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create().close();
        Random random = new Random(SEED);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("wal_level", "replica").start();
             Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).open()) {
            long sysid = systemId(pg);
            WalArchive wal = WalArchive.of(repo);
            AtomicBoolean stop = new AtomicBoolean();
            Thread load = load(pg, stop, 3000, 4);
            int run = 0;
            Process child = WalReceiverChild.start(repoDir, keyFile, pg.jdbcUrl("postgres"), pg.user(), pg.password(), "crash", 500,
                    dir.resolve("receiver-" + run + ".log"));
            // something stored, so the slot's position is the receiver's acknowledgement from now on
            WalReceiverIT.awaitTrue(() -> wal.systemIds().contains(sysid) && !wal.files(sysid, 1).isEmpty(), 120);
            Lsn start = wal.files(sysid, 1).stream().map(f -> WalArchive.segmentStartOf(f.fileName().substring(0, 24), 16L << 20))
                    .min(Lsn::compareTo).orElseThrow();
            for (int i = 0; i < KILLS; i++) {
                Thread.sleep(300 + random.nextInt(2500));
                child.destroyForcibly();
                child.waitFor();
                Lsn acknowledged = slotRestart(pg, "crash");
                WalContinuity c = wal.continuity(sysid, 1, start);
                assertFalse(acknowledged.isAfter(c.timelines().get(0).contiguousTo()),
                        "kill " + i + ": the server was told " + acknowledged + " is stored, the archive holds " + c.describe());
                child = WalReceiverChild.start(repoDir, keyFile, pg.jdbcUrl("postgres"), pg.user(), pg.password(), "crash", 500,
                        dir.resolve("receiver-" + ++run + ".log"));
            }
            stop.set(true);
            load.join(30_000);
            pg.execute("postgres", "SELECT pg_switch_wal()");
            Lsn end = Lsn.parse(pg.queryForString("postgres", "SELECT pg_current_wal_lsn()"));
            WalReceiverIT.awaitTrue(() -> !wal.continuity(sysid, 1, start).timelines().get(0).contiguousTo().isBefore(end), 180,
                    () -> wal.continuity(sysid, 1, start).describe());
            child.destroyForcibly();
            child.waitFor();
            WalContinuity c = wal.continuity(sysid, 1, start);
            assertFalse(c.hasGaps(), c.describe());
        }
    }

    static Lsn slotRestart(EphemeralPostgres pg, String slot) {
        return Lsn.parse(pg.queryForString("postgres", "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
    }

    @Test
    void anAsyncPusherKilledAtRandomPoints_neverLetsPostgresForgetAnUnstoredSegment_andLeavesNoGap() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create().close();
        String walTool = WalArchiveCommandIT.walToolScript(dir.resolve("cp"));
        ServerUser.own(dir);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        Random random = new Random(SEED + 1);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + walTool + " push --async --idle-exit 30 --repo " + repoDir + " --key-file " + keyFile + " %p'")
                .start();
             Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).open()) {
            long sysid = systemId(pg);
            String first = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())");
            WalArchive wal = WalArchive.of(repo);
            Path status = pg.dataDirectory().resolve("pg_wal/archive_status");
            String spool = pg.dataDirectory().resolve("pg_wal/.backupkit-spool").toString();
            AtomicBoolean stop = new AtomicBoolean();
            // many small segments: a backlog of .ready files the pusher works through ahead of PostgreSQL
            Thread load = load(pg, stop, 200, 1);
            int killed = 0;
            for (int i = 0; i < KILLS; i++) {
                Thread.sleep(500 + random.nextInt(2500));
                for (ProcessHandle p : pushers(spool)) {
                    p.destroyForcibly();
                    p.onExit().join();
                    killed++;
                }
                // whatever PostgreSQL considers archived must be in the archive
                Set<String> archived = wal.files(sysid).stream().map(WalArchive.WalFile::fileName).collect(Collectors.toSet());
                try (var files = Files.list(status)) {
                    for (Path d : files.filter(f -> f.toString().endsWith(".done")).toList()) {
                        String name = d.getFileName().toString().replace(".done", "");
                        assertTrue(archived.contains(name), "kill " + i + ": " + name + " is marked done but not archived");
                    }
                } catch (java.nio.file.NoSuchFileException e) {
                    // a .done file recycled while listing
                }
            }
            assertTrue(killed > 0, "the pusher ran and was killed");
            stop.set(true);
            load.join(30_000);
            String last = pg.queryForString("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())");
            pg.execute("postgres", "SELECT pg_switch_wal()");
            Lsn needed = WalArchive.segmentStartOf(last, 16L << 20).plus(16L << 20);
            WalReceiverIT.awaitTrue(() -> !wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L << 20)).timelines().get(0)
                    .contiguousTo().isBefore(needed), 180, () -> pg.logTail(2000));
            assertFalse(pg.logTail(100_000).contains("could not open file \"pg_wal/archive_status/"),
                    "the pusher never renames a file PostgreSQL is archiving");
            WalContinuity c = wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L << 20));
            assertFalse(c.hasGaps(), c.describe());
            assertFalse(c.timelines().get(0).contiguousTo().isBefore(WalArchive.segmentStartOf(last, 16L << 20).plus(16L << 20)),
                    c.describe());
        }
    }

    /** The asynchronous pushers of this spool (started by the server's archive_command). */
    static List<ProcessHandle> pushers(String spool) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().map(cl -> cl.contains(WalTool.class.getName() + " pusher")
                && cl.contains(spool)).orElse(false)).toList();
    }

}
