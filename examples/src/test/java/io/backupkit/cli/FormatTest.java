package io.backupkit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FormatTest {
    @ParameterizedTest
    @CsvSource({"0,0 B", "1023,1023 B", "1024,1.0 KiB", "1536,1.5 KiB", "104857600,100 MiB", "1610612736,1.5 GiB", "-1,?"})
    void bytes_useIecUnits(long bytes, String expected) {
        assertEquals(expected, Format.bytes(bytes));
    }

    @ParameterizedTest
    @CsvSource({"5,0:05", "65,1:05", "3725,1:02:05", "-1,--:--"})
    void clock_formatsEtas(long seconds, String expected) {
        assertEquals(expected, Format.clock(seconds));
    }

    @ParameterizedTest
    @CsvSource({"250,250 ms", "2100,2.1 s", "65000,1 min 05 s", "7260000,2 h 01 min"})
    void millis_readable(long ms, String expected) {
        assertEquals(expected, Format.millis(ms));
    }

    @Test
    void ratio_saysWhenEverythingWasDeduplicated() {
        assertEquals("4.6x", Format.ratio(4.56));
        assertEquals("150x", Format.ratio(150.2));
        assertEquals("all deduplicated", Format.ratio(Double.POSITIVE_INFINITY));
    }

    @Test
    void textTable_padsColumnsAndRightAlignsNumbers() {
        String t = new TextTable("NAME", ">SIZE").row("a", "1 B").row("long name", "100 MiB").render("");
        assertEquals("NAME          SIZE\na              1 B\nlong name  100 MiB\n", t);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "postgresql://backup@db:5432/shop|postgresql://backup@db:5432/shop",
            "postgresql://backup:hunter2@db/shop|postgresql://backup:***@db/shop",
            "jdbc:postgresql://db/shop?user=u&password=hunter2&ssl=true|jdbc:postgresql://db/shop?user=u&password=***&ssl=true",
            "s3://bucket/prefix?region=eu-west-1|s3://bucket/prefix?region=eu-west-1"})
    void redact_hidesPasswordsOnly(String url, String shown) {
        assertEquals(shown, Redact.url(url));
    }
}
