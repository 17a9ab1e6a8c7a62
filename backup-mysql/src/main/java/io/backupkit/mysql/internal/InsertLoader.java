package io.backupkit.mysql.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

import static io.backupkit.mysql.internal.Sessions.quote;

/**
 * Loads a data stream with multi-row INSERT statements, for servers that refuse {@code LOAD DATA
 * LOCAL} ({@code local_infile=OFF}, the MySQL 8 default). Every value is bound as bytes, which the
 * driver sends as a {@code _binary} literal, so its stored bytes reach the column unconverted exactly
 * as with LOAD DATA's {@code CHARACTER SET binary}; the server converts the text of numbers and dates
 * as it would there.
 */
public final class InsertLoader {
    /** Bytes of values per statement: well below every server's max_allowed_packet default (4 MiB on MySQL 5.7). */
    static final int STATEMENT_BYTES = 1024 * 1024;
    /** Placeholders per statement: below the 65,535 a prepared statement may have. */
    static final int MAX_PARAMETERS = 30_000;

    private InsertLoader() {
    }

    /** Inserts the rows of {@code in} into {@code db.t}; returns the number of rows inserted. */
    public static long load(Connection c, String db, TableInfo t, InputStream in) throws IOException, SQLException {
        List<ColumnInfo> cols = t.dumpedColumns();
        int maxRows = Math.max(1, Math.min(1000, MAX_PARAMETERS / Math.max(1, cols.size())));
        List<List<byte[]>> batch = new ArrayList<>();
        long batchBytes = 0;
        long inserted = 0;
        PreparedStatement full = null;
        ByteArrayOutputStream line = new ByteArrayOutputStream(8192);
        BufferedInputStream bin = new BufferedInputStream(in, 256 * 1024);
        try {
            while (true) {
                int b = bin.read();
                if (b == -1 && line.size() == 0) {
                    break;
                }
                if (b != '\n' && b != -1) {
                    line.write(b);
                    continue;
                }
                byte[] lineBytes = line.toByteArray();
                line.reset();
                List<byte[]> values = RowFormat.parseLine(lineBytes, 0, lineBytes.length);
                if (values.size() != cols.size()) {
                    throw new SQLException("a row of table " + t.qualifiedName() + " has " + values.size() + " values, the table has "
                            + cols.size() + " columns");
                }
                batch.add(values);
                batchBytes += lineBytes.length;
                if (batch.size() == maxRows || batchBytes >= STATEMENT_BYTES) {
                    if (batch.size() == maxRows) {
                        if (full == null) {
                            full = c.prepareStatement(insert(db, t, maxRows));
                        }
                        inserted += execute(full, cols, batch);
                    } else {
                        try (PreparedStatement ps = c.prepareStatement(insert(db, t, batch.size()))) {
                            inserted += execute(ps, cols, batch);
                        }
                    }
                    batch.clear();
                    batchBytes = 0;
                }
                if (b == -1) {
                    break;
                }
            }
            if (!batch.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(insert(db, t, batch.size()))) {
                    inserted += execute(ps, cols, batch);
                }
            }
        } finally {
            if (full != null) {
                full.close();
            }
        }
        return inserted;
    }

    /** {@code INSERT INTO db.t (a, b) VALUES (?, CAST(? AS UNSIGNED)), …} for {@code rows} rows. */
    static String insert(String db, TableInfo t, int rows) {
        List<String> names = new ArrayList<>();
        List<String> marks = new ArrayList<>();
        for (ColumnInfo c : t.dumpedColumns()) {
            names.add(quote(c.name()));
            marks.add(c.encoding() == ColumnInfo.Encoding.BIT_AS_INTEGER ? "CAST(? AS UNSIGNED)" : "?");
        }
        String row = "(" + String.join(", ", marks) + ")";
        StringBuilder sb = new StringBuilder("INSERT INTO ").append(quote(db)).append('.').append(quote(t.name())).append(" (")
                .append(String.join(", ", names)).append(") VALUES ");
        for (int i = 0; i < rows; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(row);
        }
        return sb.toString();
    }

    private static long execute(PreparedStatement ps, List<ColumnInfo> cols, List<List<byte[]>> rows) throws SQLException {
        int p = 1;
        for (List<byte[]> r : rows) {
            for (byte[] v : r) {
                if (v == null) {
                    ps.setNull(p++, Types.VARBINARY);
                } else {
                    ps.setBytes(p++, v);
                }
            }
        }
        return ps.executeLargeUpdate();
    }
}
