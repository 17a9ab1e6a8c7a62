package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every WAL error case of issue 10 with the message a user sees (acceptance 6). */
class WalErrorsIT {
    static EphemeralPostgres pg;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        // logical includes replica, and lets one test create a logical slot
        pg = EphemeralPostgres.builder().setting("wal_level", "logical").start();
        pg.execute("postgres", "CREATE ROLE plain LOGIN PASSWORD 'plain-pw'");
        pg.execute("postgres", "CREATE ROLE hbarole LOGIN REPLICATION PASSWORD 'hba-pw'");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    static Repository repository(String name) {
        return Repository.builder().storage(LocalStorage.of(dir.resolve(name)))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).openOrCreate();
    }

    String server() {
        return "127.0.0.1:" + pg.port();
    }

    @Test
    void walLevelMinimal_saysWhatToSet() {
        try (EphemeralPostgres minimal = EphemeralPostgres.builder().setting("wal_level", "minimal").setting("max_wal_senders", "0").start();
             Repository repo = repository("minimal")) {
            WalReceiver r = WalReceiver.builder().repository(repo).url(minimal.jdbcUrl("postgres")).user(minimal.user())
                    .password(minimal.password().toCharArray()).slot("s").createSlot(true).build();
            ConfigurationException e = assertThrows(ConfigurationException.class, r::start);
            assertEquals("wal_level is 'minimal' on 127.0.0.1:" + minimal.port() + ", which writes too little WAL to stream or to recover"
                    + " to a point in time: set wal_level = replica (and max_wal_senders of at least 2) in postgresql.conf and restart"
                    + " the server", e.getMessage());
        }
    }

    @Test
    void aRoleWithoutReplication_isToldToGetIt() {
        try (Repository repo = repository("plain")) {
            WalReceiver r = WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user("plain")
                    .password("plain-pw".toCharArray()).slot("s_plain").createSlot(true).build();
            ConfigurationException e = assertThrows(ConfigurationException.class, r::start);
            assertEquals("role 'plain' may not stream WAL from " + server() + ": it needs the REPLICATION attribute (ALTER ROLE plain"
                    + " REPLICATION) and a pg_hba.conf line that allows it replication connections (host replication plain <address>"
                    + " scram-sha-256)", e.getMessage());
            assertFalse(e.getMessage().contains("plain-pw"));
        }
    }

    @Test
    void aMissingSlot_saysHowToCreateIt() {
        try (Repository repo = repository("slot")) {
            WalReceiver r = WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user(pg.user())
                    .password(pg.password().toCharArray()).slot("nosuchslot").build();
            ConfigurationException e = assertThrows(ConfigurationException.class, r::start);
            assertEquals("replication slot 'nosuchslot' does not exist on " + server() + ": create it with --create-slot"
                    + " (WalReceiver.builder().createSlot(true)), or run SELECT pg_create_physical_replication_slot('nosuchslot', true);"
                    + " and set max_slot_wal_keep_size so an outage of the receiver cannot fill the server's disk", e.getMessage());
        }
    }

    @Test
    void aLogicalSlotOfThatName_isRefused() {
        pg.execute("postgres", "SELECT pg_create_logical_replication_slot('logicalslot', 'test_decoding')");
        try (Repository repo = repository("logical")) {
            WalReceiver r = WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user(pg.user())
                    .password(pg.password().toCharArray()).slot("logicalslot").build();
            ConfigurationException e = assertThrows(ConfigurationException.class, r::start);
            assertTrue(e.getMessage().startsWith("replication slot 'logicalslot' on " + server() + " is a logical slot; WAL streaming"
                    + " needs a physical slot"), e.getMessage());
        } finally {
            pg.execute("postgres", "SELECT pg_drop_replication_slot('logicalslot')");
        }
    }

    @Test
    void pgHbaWithoutAReplicationLine_saysWhichLineToAdd() throws IOException {
        Path hba = pg.dataDirectory().resolve("pg_hba.conf");
        String original = Files.readString(hba);
        Files.writeString(hba, "host replication hbarole 127.0.0.1/32 reject\n" + original);
        pg.execute("postgres", "SELECT pg_reload_conf()");
        try (Repository repo = repository("hba")) {
            WalReceiver r = WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user("hbarole")
                    .password("hba-pw".toCharArray()).slot("s_hba").createSlot(true).build();
            ConfigurationException e = assertThrows(ConfigurationException.class, r::start);
            assertTrue(e.getMessage().startsWith("cannot open a replication connection to hbarole@127.0.0.1:" + pg.port()
                    + "/postgres: the server " + server() + " refuses replication connections of role 'hbarole' from this host: add a"
                    + " pg_hba.conf line such as 'host replication hbarole <this host's address>/32 scram-sha-256' and reload"), e.getMessage());
        } finally {
            Files.writeString(hba, original);
            pg.execute("postgres", "SELECT pg_reload_conf()");
            pg.execute("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 's_hba'");
        }
    }

    @Test
    void aRepositoryThatCannotBeReached_getsNothingAcknowledged_andStreamingCatchesUpWhenItIsBack() {
        SwitchableStorage storage = new SwitchableStorage(LocalStorage.of(dir.resolve("flaky")));
        try (Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1))
                .create();
             WalReceiver r = WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user(pg.user())
                     .password(pg.password().toCharArray()).slot("s_flaky").createSlot(true).partialInterval(Duration.ofMillis(300))
                     .statusInterval(Duration.ofMillis(300)).build().start()) {
            pg.execute("postgres", "CREATE TABLE IF NOT EXISTS flaky (id int)");
            Lsn first = Lsn.parse(pg.queryForString("postgres", "SELECT pg_current_wal_lsn()"));
            assertTrue(r.awaitStored(first, Duration.ofSeconds(60)), r.status().toString());
            storage.down(true);
            pg.execute("postgres", "INSERT INTO flaky SELECT generate_series(1, 50000)");
            pg.execute("postgres", "SELECT pg_switch_wal()");
            Lsn second = Lsn.parse(pg.queryForString("postgres", "SELECT pg_current_wal_lsn()"));
            WalReceiverIT.awaitTrue(() -> r.status().received().compareTo(second) >= 0 && r.status().lastError() != null, 60);
            assertFalse(r.awaitStored(second, Duration.ofSeconds(2)), "nothing is stored while the repository is down");
            Lsn slotRestart = Lsn.parse(pg.queryForString("postgres", "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 's_flaky'"));
            assertTrue(slotRestart.isBefore(second), "the server keeps the WAL that is not stored: slot at " + slotRestart);
            assertTrue(r.status().lastError().contains("connection refused"), r.status().lastError());
            storage.down(false);
            assertTrue(r.awaitStored(second, Duration.ofSeconds(120)), r.status().toString());
            long sysid = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
            assertFalse(WalArchive.of(repo).continuity(sysid, 1, first).hasGaps());
        } finally {
            pg.execute("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 's_flaky'");
        }
    }

    @Test
    void pushingWhileTheRepositoryCannotBeReached_failsSoPostgresRetries_andStoresNothing() throws IOException {
        SwitchableStorage storage = new SwitchableStorage(LocalStorage.of(dir.resolve("flakypush")));
        try (Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1))
                .create()) {
            WalArchive wal = WalArchive.of(repo);
            Path seg = FakeWal.writeSegment(dir.resolve("pg_wal"), 7L, 1, 3);
            storage.down(true);
            StorageException e = assertThrows(StorageException.class, () -> wal.push(seg));
            assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
            storage.down(false);
            assertTrue(wal.systemIds().isEmpty() || wal.files(7L).isEmpty(), "nothing stored");
            assertEquals(io.backupkit.LogPutResult.Status.STORED, wal.push(seg).status());
        }
    }
}
