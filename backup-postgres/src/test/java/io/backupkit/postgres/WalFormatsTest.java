package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.wal.PgControl;
import io.backupkit.postgres.internal.wal.ServerChecks;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.internal.wal.WalPageHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LSNs, WAL file names, page headers, pg_control and the server checks, by PostgreSQL version where they differ. */
class WalFormatsTest {

    @ParameterizedTest
    @CsvSource({"0/0, 0", "0/3000028, 50331688", "16/B374D848, 97500059720", "FFFFFFFF/FFFFFFFF, -1"})
    void lsn_parsesAndPrintsLikePostgres(String text, long value) {
        assertEquals(value, Lsn.parse(text).value());
        assertEquals(text, Lsn.parse(text).toString());
    }

    @Test
    void lsn_comparesUnsigned_andRefusesJunk() {
        assertTrue(Lsn.parse("FFFFFFFF/0").isAfter(Lsn.parse("1/0")));
        for (String bad : new String[] {"", "12", "/1", "1/", "G/1", "123456789/0", "0/123456789"}) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> Lsn.parse(bad), bad);
            assertTrue(e.getMessage().contains("is not a WAL position"), e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "16777216, 0/3000028, 1, 000000010000000000000003",
            "16777216, 1/0, 2, 000000020000000100000000",
            "67108864, 1/4000000, 1, 000000010000000100000001",
            "1048576, 0/FFF00000, 3, 000000030000000000000FFF",
            "1048576, 1/100000, 3, 000000030000000100000001",
            "1073741824, 2/40000000, 1, 000000010000000200000001"})
    void segmentNames_followTheSegmentSize(long segmentSize, String lsn, int timeline, String name) {
        assertEquals(name, WalNames.segmentOf(timeline, Lsn.parse(lsn), segmentSize));
        assertEquals(Lsn.parse(lsn).segmentStart(segmentSize), WalNames.segmentStart(name, segmentSize));
        assertEquals(timeline, WalNames.timeline(name));
    }

    @Test
    void walFileKinds() {
        assertEquals(WalNames.Kind.SEGMENT, WalNames.kind("000000010000000000000003"));
        assertEquals(WalNames.Kind.HISTORY, WalNames.kind("00000002.history"));
        assertEquals(WalNames.Kind.BACKUP_LABEL, WalNames.kind("000000010000000000000002.00000028.backup"));
        assertEquals(WalNames.Kind.PROMOTION_PARTIAL, WalNames.kind("000000010000000000000005.partial"));
        assertEquals(WalNames.Kind.STREAM_PARTIAL, WalNames.kind("000000010000000000000005.partial.0000A000"));
        assertEquals(null, WalNames.kind("000000010000000000000005.tmp"));
        assertEquals(null, WalNames.kind("RECOVERYXLOG"));
    }

    static byte[] header(int magic, long sysid, long pageAddr, int segSize, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(WalPageHeader.LENGTH).order(order);
        b.putShort(0, (short) magic).putShort(2, (short) 0x0007).putInt(4, 1).putLong(8, pageAddr).putLong(24, sysid)
                .putInt(32, segSize).putInt(36, 8192);
        return b.array();
    }

    @ParameterizedTest
    @CsvSource({"13, 53510", "14, 53517", "15, 53520", "16, 53523", "17, 53526"})
    void pageHeader_magicNamesTheVersion(int version, int magic) {
        assertEquals(Optional.of(version), WalPageHeader.versionOf(magic));
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            WalPageHeader h = WalPageHeader.parse(header(magic, 7312345678901234567L, 0x3000000L, 16 << 20, order), 0, 40).orElseThrow();
            assertEquals(7312345678901234567L, h.systemId());
            assertEquals(0x3000000L, h.pageAddress());
            assertEquals(16 << 20, h.segmentSize());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void pageHeader_refusesRandomBytes(long seed) {
        byte[] b = new byte[40];
        new Random(seed).nextBytes(b);
        b[0] = 0;
        assertFalse(WalPageHeader.parse(b, 0, 40).isPresent());
        assertFalse(WalPageHeader.parse(new byte[39], 0, 39).isPresent());
    }

    @Test
    void pgControl_systemIdInEitherByteOrder() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            byte[] b = ByteBuffer.allocate(16).order(order).putLong(0, -42L).putInt(8, 1300).array();
            assertEquals(Optional.of(-42L), PgControl.parse(b));
        }
        assertEquals(Optional.empty(), PgControl.parse(new byte[16]));
    }

    static ServerChecks.Facts facts(int versionNum, String walLevel, int senders, boolean mayReplicate,
                                    Optional<ServerChecks.Slot> slot) {
        return new ServerChecks.Facts(versionNum, walLevel, senders, 16 << 20, 8192, "backup", mayReplicate, slot);
    }

    @ParameterizedTest
    @ValueSource(ints = {130012, 140010, 150014, 160004, 170002})
    void serverChecks_acceptEverySupportedVersion(int versionNum) {
        ServerChecks.check(facts(versionNum, "replica", 10, true, Optional.empty()), "db:5432", "s", true);
        ServerChecks.check(facts(versionNum, "logical", 10, true,
                Optional.of(new ServerChecks.Slot("s", "physical", false, null, Lsn.parse("0/3000000"), "reserved"))), "db:5432", "s", false);
    }

    @Test
    void serverChecks_refuseOldVersionsAndSayWhatToSet() {
        assertEquals("the server db:5432 runs PostgreSQL 12; streaming WAL needs PostgreSQL 13 or newer", assertThrows(
                ConfigurationException.class, () -> ServerChecks.check(facts(120015, "replica", 10, true, Optional.empty()), "db:5432", "s", true))
                .getMessage());
        assertTrue(assertThrows(ConfigurationException.class, () -> ServerChecks.check(facts(150014, "replica", 0, true, Optional.empty()),
                "db:5432", "s", true)).getMessage().startsWith("max_wal_senders is 0 on db:5432"));
        ConfigurationException lost = assertThrows(ConfigurationException.class, () -> ServerChecks.check(facts(150014, "replica", 10, true,
                Optional.of(new ServerChecks.Slot("s", "physical", false, null, null, "lost"))), "db:5432", "s", false));
        assertTrue(lost.getMessage().contains("has lost WAL it should have kept"), lost.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // PostgreSQL 15 and 16 word the refusal differently
            "FATAL: must be superuser or replication role to start walsender|ALTER ROLE backup REPLICATION",
            "FATAL: permission denied to start WAL sender|ALTER ROLE backup REPLICATION",
            "FATAL: no pg_hba.conf entry for replication connection from host \"10.0.0.1\"|add a pg_hba.conf line",
            "FATAL: number of requested standby connections exceeds max_wal_senders (currently 2)|raise max_wal_senders"})
    void replicationConnectErrors_getAHint(String serverMessage, String hint) {
        assertTrue(ServerChecks.explainConnectError(serverMessage, "db:5432", "backup").contains(hint));
    }
}
