package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Databases that are not UTF-8 (issue 9, item 11 and acceptance 4): bytes that differ between the
 * encodings round-trip exactly, in whole tables, in a table big enough to be dumped in page ranges,
 * and in table and column names.
 */
class PostgresEncodingIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static void createDatabase(String name, String encoding) {
        // C is the one locale every encoding accepts
        pg.execute("postgres", "CREATE DATABASE " + name + " ENCODING '" + encoding + "' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
    }

    /**
     * A table of about 40 MiB (split into page ranges for two workers) and two small ones, one with
     * a non-ASCII name and column, all holding {@code text} values made by {@code valueSql(i)}.
     */
    private static void fill(String db, String valueSql, int repeat, String smallName) {
        pg.execute(db, "CREATE TABLE big (id int PRIMARY KEY, v text NOT NULL); "
                + "INSERT INTO big SELECT i, repeat(" + valueSql + ", " + repeat + ") || i FROM generate_series(1, 200000) i; "
                + "CREATE TABLE " + smallName + " (id int PRIMARY KEY, v text); "
                + "INSERT INTO " + smallName + " SELECT i, " + valueSql + " FROM generate_series(1, 500) i; "
                + "CREATE TABLE plain (id int, note text); INSERT INTO plain SELECT i, 'n' || i FROM generate_series(1, 100) i");
        pg.execute(db, "VACUUM ANALYZE big");
    }

    private static Snapshot roundTrip(String db, String copy) {
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = source(pg, db);
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        assertTrue(PostgresRoundTripIT.streamsByTable(snapshot).get("public.big").size() >= 2,
                "the big table is dumped in page ranges: " + PostgresRoundTripIT.streamsByTable(snapshot));
        target(pg, copy).build().restore(ctx.restoreContext(snapshot, 2));
        return snapshot;
    }

    /** A value's bytes as the server stores them (textsend would convert them to the client encoding). */
    private static final String SERVER_BYTES = "convert_to(v, current_setting('server_encoding'))";

    /** md5 over the server-side bytes of every value: equal only when every byte came back. */
    private static String bytesDigest(String db, String table) {
        return pg.queryForString(db, "SELECT md5(string_agg(" + SERVER_BYTES + "::text, ',' ORDER BY id)) FROM " + table);
    }

    @Test
    void latin1_roundTripsEveryByteExactly_inSplitTablesAndNonAsciiNames() {
        createDatabase("lat", "LATIN1");
        // characters whose LATIN1 bytes (0xA0-0xFF) are invalid or different in UTF-8
        fill("lat", "'Grüße ÿ ¤ é ß ° ½ ' || chr(160) || ' '", 12, "\"Übersicht größe\"");
        assertEquals("LATIN1", pg.queryForString("lat", "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'lat'"));

        Snapshot snapshot = roundTrip("lat", "lat_copy");

        assertEquals("LATIN1", snapshot.metadata().get("copyEncoding"));
        assertEquals("LATIN1", pg.queryForString("postgres", "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'lat_copy'"));
        assertEquals(DbDigest.tables(pg, "lat"), DbDigest.tables(pg, "lat_copy"));
        assertEquals(bytesDigest("lat", "big"), bytesDigest("lat_copy", "big"));
        assertEquals(bytesDigest("lat", "\"Übersicht größe\""), bytesDigest("lat_copy", "\"Übersicht größe\""));
        assertEquals("Grüße ÿ ¤ é ß ° ½ \u00a0 ", pg.queryForString("lat_copy", "SELECT v FROM \"Übersicht größe\" WHERE id = 1"));
        assertEquals("\\x4772fc",
                pg.queryForString("lat_copy", "SELECT substr(" + SERVER_BYTES + ", 1, 3)::text FROM big WHERE id = 7"), "LATIN1 bytes, not UTF-8");
        pg.dropDatabase("lat_copy");
        pg.dropDatabase("lat");
    }

    @Test
    void sqlAscii_roundTripsBytesThatAreNotUtf8() {
        createDatabase("raw", "SQL_ASCII");
        // SQL_ASCII stores whatever bytes it is given; these are LATIN1 and invalid as UTF-8
        fill("raw", "convert_from('\\xe9ff4120c4d6dc'::bytea, 'SQL_ASCII')", 30, "\"raw names\"");
        String before = bytesDigest("raw", "big");
        assertEquals("\\xe9ff41", pg.queryForString("raw", "SELECT substr(" + SERVER_BYTES + ", 1, 3)::text FROM big WHERE id = 1"));

        Snapshot snapshot = roundTrip("raw", "raw_copy");

        assertEquals("SQL_ASCII", snapshot.metadata().get("copyEncoding"));
        assertEquals(DbDigest.tables(pg, "raw"), DbDigest.tables(pg, "raw_copy"));
        assertEquals(before, bytesDigest("raw_copy", "big"));
        assertEquals(bytesDigest("raw", "\"raw names\""), bytesDigest("raw_copy", "\"raw names\""));
        assertEquals("\\xe9ff41", pg.queryForString("raw_copy", "SELECT substr(" + SERVER_BYTES + ", 1, 3)::text FROM big WHERE id = 1"));
        pg.dropDatabase("raw_copy");
        pg.dropDatabase("raw");
    }

    @Test
    void eucJp_roundTripsMultibyteTextExactly() {
        createDatabase("jp", "EUC_JP");
        // JIS X 0208 kanji and kana, half-width katakana (0x8E prefix) and a JIS X 0212 kanji (0x8F prefix)
        fill("jp", "'日本語のテキスト ｶﾀｶﾅ 丂 ①'", 12, "\"表 データ\"");
        Snapshot snapshot = roundTrip("jp", "jp_copy");

        assertEquals("EUC_JP", snapshot.metadata().get("copyEncoding"));
        assertEquals(DbDigest.tables(pg, "jp"), DbDigest.tables(pg, "jp_copy"));
        assertEquals(bytesDigest("jp", "big"), bytesDigest("jp_copy", "big"));
        assertEquals(bytesDigest("jp", "\"表 データ\""), bytesDigest("jp_copy", "\"表 データ\""));
        assertEquals("日本語のテキスト ｶﾀｶﾅ 丂 ①", pg.queryForString("jp_copy", "SELECT v FROM \"表 データ\" WHERE id = 3"));
        String eucBytes = pg.queryForString("jp_copy", "SELECT substr(" + SERVER_BYTES + ", 1, 2)::text FROM big WHERE id = 1");
        assertEquals("\\xc6fc", eucBytes, "EUC-JP bytes of 日");
        pg.dropDatabase("jp_copy");
        pg.dropDatabase("jp");
    }

    @Test
    void latin1DataOnly_intoAUtf8Database_isConverted_notGarbled() {
        createDatabase("lat2", "LATIN1");
        pg.execute("lat2", "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'Grüße ÿ'), (2, 'façade')");
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = source(pg, "lat2");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        pg.createDatabase("utf_target");
        pg.execute("utf_target", "CREATE TABLE t (id int PRIMARY KEY, v text)");
        target(pg, "utf_target").dataOnly().build().restore(ctx.restoreContext(snapshot, 2));
        List<List<String>> rows = pg.query("utf_target", "SELECT v FROM t ORDER BY id");
        assertEquals(List.of(List.of("Grüße ÿ"), List.of("façade")), rows);
        assertNotEquals(Map.of(), DbDigest.tables(pg, "utf_target"));
        pg.dropDatabase("utf_target");
        pg.dropDatabase("lat2");
    }
}
