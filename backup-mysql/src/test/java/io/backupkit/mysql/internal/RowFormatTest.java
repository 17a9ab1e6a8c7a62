package io.backupkit.mysql.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class RowFormatTest {
    private static final ServerVersion MARIADB = ServerVersion.parse("10.11.19-MariaDB", "");
    private static final ServerVersion MYSQL57 = ServerVersion.parse("5.7.44", "");

    private static TableInfo table() {
        return new TableInfo("shop", "t`x", "InnoDB", true, List.of(
                new ColumnInfo("id", "int", false),
                new ColumnInfo("f", "float", false),
                new ColumnInfo("flags", "bit", false),
                new ColumnInfo("spot", "point", false),
                new ColumnInfo("twice", "int", true),
                new ColumnInfo("note", "text", false)), List.of("id"), 0);
    }

    @Test
    void select_namesDumpedColumnsAsBinary_inKeyOrder() {
        assertEquals("SELECT CAST(`id` AS BINARY), CAST(CAST(`f` AS DOUBLE) AS BINARY), CAST((`flags` + 0) AS BINARY), CAST(`spot` AS BINARY), "
                + "CAST(`note` AS BINARY) FROM `shop`.`t``x` ORDER BY `id`", RowFormat.select(table(), MARIADB));
        // MySQL before 8.0.17 has no CAST(… AS DOUBLE)
        assertEquals("SELECT CAST(`id` AS BINARY), CAST((`f` + 0e0) AS BINARY), CAST((`flags` + 0) AS BINARY), CAST(`spot` AS BINARY), "
                + "CAST(`note` AS BINARY) FROM `shop`.`t``x` ORDER BY `id`", RowFormat.select(table(), MYSQL57));
    }

    @Test
    void loadData_readsTheFormat_bitAndGeometryThroughVariables() {
        assertEquals("LOAD DATA LOCAL INFILE 'stream' INTO TABLE `copy`.`t``x` CHARACTER SET binary FIELDS TERMINATED BY '\\t' "
                + "ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`id`, `f`, @c3, @c4, `note`) SET `flags` = CAST(@c3 AS UNSIGNED), `spot` = @c4",
                RowFormat.loadData(table(), "copy", "stream"));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void writeValue_thenParseLine_givesTheSameBytes(long seed) throws IOException {
        Random rnd = new Random(seed);
        List<byte[]> values = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            if (rnd.nextInt(6) == 0) {
                values.add(null);
                continue;
            }
            byte[] v = new byte[rnd.nextInt(40)];
            rnd.nextBytes(v);
            // plenty of the bytes that need escaping
            for (int k = 0; k < v.length; k += 3) {
                v[k] = new byte[] {'\\', '\t', '\n', '\r', 0, 'N', 26}[rnd.nextInt(7)];
            }
            values.add(v);
        }
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                line.write('\t');
            }
            RowFormat.writeValue(line, values.get(i));
        }
        byte[] bytes = line.toByteArray();
        for (byte b : bytes) {
            assertFalse(b == '\n' || b == '\r' || b == 0, "an unescaped line break or NUL in " + line);
        }
        List<byte[]> parsed = RowFormat.parseLine(bytes, 0, bytes.length);
        assertEquals(values.size(), parsed.size());
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) == null) {
                assertNull(parsed.get(i), "value " + i);
            } else {
                assertArrayEquals(values.get(i), parsed.get(i), "value " + i);
            }
        }
    }

    @Test
    void writeValue_escapesLikeSelectIntoOutfile() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RowFormat.writeValue(out, "a\\b\tc\nd\re\0f \\N".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("a\\\\b\\tc\\nd\\re\\0f \\\\N", out.toString(StandardCharsets.ISO_8859_1));
        out.reset();
        RowFormat.writeValue(out, null);
        assertEquals("\\N", out.toString(StandardCharsets.ISO_8859_1));
        out.reset();
        RowFormat.writeValue(out, new byte[0]);
        assertEquals("", out.toString(StandardCharsets.ISO_8859_1));
    }

    @Test
    void insert_placeholdersPerRow_bitCast() {
        assertEquals("INSERT INTO `copy`.`t``x` (`id`, `f`, `flags`, `spot`, `note`) VALUES (?, ?, CAST(? AS UNSIGNED), ?, ?), "
                + "(?, ?, CAST(? AS UNSIGNED), ?, ?)", InsertLoader.insert("copy", table(), 2));
    }

    @Test
    void streamNames_encodeSlashPercentAndControls_only() {
        assertEquals("data/shop/Kunden%2FÜbersicht ✓", StreamNames.data("shop", "Kunden/Übersicht ✓"));
        assertEquals("schema/100%25%0A", StreamNames.schema("100%\n"));
        assertEquals("Kunden/Übersicht ✓", StreamNames.decode("Kunden%2FÜbersicht ✓"));
    }
}
