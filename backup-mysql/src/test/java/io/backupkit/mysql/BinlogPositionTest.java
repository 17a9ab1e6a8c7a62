package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinlogPositionTest {

    @Test
    void parse_orderAndNames() {
        BinlogPosition p = BinlogPosition.parse("mysql-bin.000042:1337");
        assertEquals("mysql-bin.000042", p.file());
        assertEquals(1337, p.position());
        assertEquals(42, p.sequence());
        assertEquals("mysql-bin", p.baseName());
        assertEquals("mysql-bin.000042:1337", p.toString());
        assertTrue(p.compareTo(BinlogPosition.parse("mysql-bin.000042:1338")) < 0);
        assertTrue(p.compareTo(BinlogPosition.parse("mysql-bin.000041:99999")) > 0);
        assertTrue(BinlogPosition.parse("b.999999:4").compareTo(BinlogPosition.parse("b.1000000:4")) < 0);
        assertEquals("binlog.000010", BinlogPosition.fileWithSequence("binlog.000009", 10));
        assertEquals("binlog.1000000", BinlogPosition.fileWithSequence("binlog.999999", 1_000_000));
        assertEquals(-1, BinlogPosition.sequenceOf("binlog.index"));
    }

    @Test
    void badInput_saysTheExpectedForm() {
        assertEquals("a binary log position is FILE:OFFSET, e.g. binlog.000042:1337; got 'binlog.000042'",
                assertThrows(ConfigurationException.class, () -> BinlogPosition.parse("binlog.000042")).getMessage());
        assertEquals("not a binary log file name: 'x' (expected e.g. binlog.000042)",
                assertThrows(ConfigurationException.class, () -> BinlogPosition.parse("x:5")).getMessage());
        assertEquals("a binary log position is at least 4 (after the file's magic number), was 1",
                assertThrows(ConfigurationException.class, () -> BinlogPosition.parse("b.000001:1")).getMessage());
    }
}
