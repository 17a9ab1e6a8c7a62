package io.backupkit.mysql.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

import static io.backupkit.mysql.internal.Sessions.quote;

/**
 * The data stream format of one table: one row per line, columns separated by TAB, the stored
 * bytes of every value unconverted, with {@code \\}, TAB, LF, CR and NUL escaped by a backslash and
 * NULL written as {@code \N}: exactly what {@code LOAD DATA … CHARACTER SET binary} with the
 * default FIELDS/LINES options reads back. Values whose text form would lose information travel
 * in another form ({@link ColumnInfo.Encoding}).
 */
public final class RowFormat {
    private static final byte[] NULL = {'\\', 'N'};

    private RowFormat() {
    }

    /**
     * The SELECT that reads a table's rows for its data stream: the dumped columns (generated ones
     * left out, invisible ones named explicitly), in primary-key order when there is one (free for
     * InnoDB, whose rows are stored in that order, and it makes the stream deterministic).
     */
    public static String select(TableInfo t, ServerVersion v) {
        StringJoiner cols = new StringJoiner(", ");
        for (ColumnInfo c : t.dumpedColumns()) {
            String q = quote(c.name());
            String expr = switch (c.encoding()) {
                case FLOAT_AS_DOUBLE -> v.hasCastAsDouble() ? "CAST(" + q + " AS DOUBLE)" : "(" + q + " + 0e0)";
                case BIT_AS_INTEGER -> "(" + q + " + 0)";
                case RAW, GEOMETRY -> q;
            };
            // every value as a binary string: the server's own text of numbers and dates, the stored
            // bytes of strings, and nothing for the driver to decode or reformat
            cols.add("CAST(" + expr + " AS BINARY)");
        }
        StringBuilder sql = new StringBuilder("SELECT ").append(cols).append(" FROM ").append(quote(t.database())).append('.')
                .append(quote(t.name()));
        if (!t.primaryKey().isEmpty()) {
            StringJoiner order = new StringJoiner(", ", " ORDER BY ", "");
            t.primaryKey().forEach(k -> order.add(quote(k)));
            sql.append(order);
        }
        return sql.toString();
    }

    /** The LOAD DATA statement that reads a data stream back into {@code database.table} (table from {@code t}). */
    public static String loadData(TableInfo t, String database, String fileName) {
        List<String> targets = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        int i = 0;
        for (ColumnInfo c : t.dumpedColumns()) {
            i++;
            switch (c.encoding()) {
                case RAW, FLOAT_AS_DOUBLE -> targets.add(quote(c.name()));
                case BIT_AS_INTEGER -> {
                    targets.add("@c" + i);
                    sets.add(quote(c.name()) + " = CAST(@c" + i + " AS UNSIGNED)");
                }
                case GEOMETRY -> {
                    targets.add("@c" + i);
                    sets.add(quote(c.name()) + " = @c" + i);
                }
            }
        }
        StringBuilder sql = new StringBuilder("LOAD DATA LOCAL INFILE ").append(Sessions.literal(fileName)).append(" INTO TABLE ")
                .append(quote(database)).append('.').append(quote(t.name()))
                .append(" CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (")
                .append(String.join(", ", targets)).append(')');
        if (!sets.isEmpty()) {
            sql.append(" SET ").append(String.join(", ", sets));
        }
        return sql.toString();
    }

    /** Writes one value (null for SQL NULL), escaped. */
    public static void writeValue(OutputStream out, byte[] value) throws IOException {
        if (value == null) {
            out.write(NULL);
            return;
        }
        int start = 0;
        for (int i = 0; i < value.length; i++) {
            byte b = value[i];
            byte esc = switch (b) {
                case '\\' -> '\\';
                case '\t' -> 't';
                case '\n' -> 'n';
                case '\r' -> 'r';
                case 0 -> '0';
                default -> -1;
            };
            if (esc != -1) {
                out.write(value, start, i - start);
                out.write('\\');
                out.write(esc);
                start = i + 1;
            }
        }
        out.write(value, start, value.length - start);
    }

    /**
     * Splits one line (without its LF) back into values, undoing {@link #writeValue}: for tests and for
     * the INSERT fallback when the server refuses LOAD DATA LOCAL.
     */
    public static List<byte[]> parseLine(byte[] line, int from, int to) {
        List<byte[]> out = new ArrayList<>();
        java.io.ByteArrayOutputStream cur = new java.io.ByteArrayOutputStream();
        boolean isNull = false;
        for (int i = from; i < to; i++) {
            byte b = line[i];
            if (b == '\t') {
                out.add(isNull ? null : cur.toByteArray());
                cur.reset();
                isNull = false;
            } else if (b == '\\' && i + 1 < to) {
                byte n = line[++i];
                switch (n) {
                    case 't' -> cur.write('\t');
                    case 'n' -> cur.write('\n');
                    case 'r' -> cur.write('\r');
                    case '0' -> cur.write(0);
                    case 'Z' -> cur.write(26);
                    case 'b' -> cur.write('\b');
                    case 'N' -> isNull = true;
                    default -> cur.write(n);
                }
            } else {
                cur.write(b);
            }
        }
        out.add(isNull ? null : cur.toByteArray());
        return out;
    }
}
