package io.backupkit.mysql;

import io.backupkit.mysql.testing.MySqlServer;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Shorthands for tests against an ephemeral server. */
final class MySqlTestSupport {
    private MySqlTestSupport() {
    }

    static MySqlSource.Builder source(MySqlServer db, String database) {
        return MySqlSource.builder().url(db.uri(database)).user(db.user()).password(db.password().toCharArray());
    }

    static MySqlTarget.Builder target(MySqlServer db, String database) {
        return MySqlTarget.builder().url(db.uri(database)).user(db.user()).password(db.password().toCharArray());
    }

    /** Up to 3 rows per table that are in one database and not in the other, for failure messages. */
    static String rowDifferences(MySqlServer db, String a, String b, java.util.Collection<String> tables) {
        StringBuilder sb = new StringBuilder();
        for (String t : tables) {
            String q = MySqlServer.quoteIdent(t);
            for (String[] pair : new String[][] {{a, b}, {b, a}}) {
                List<List<String>> rows = db.query(null, "SELECT * FROM " + MySqlServer.quoteIdent(pair[0]) + "." + q + " EXCEPT SELECT * FROM "
                        + MySqlServer.quoteIdent(pair[1]) + "." + q + " LIMIT 3");
                if (!rows.isEmpty()) {
                    sb.append(t).append(" only in ").append(pair[0]).append(": ").append(rows).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /**
     * Tables whose CHECKSUM TABLE MariaDB 10.11 does not compute deterministically: an ENUM or SET
     * column together with a stored generated column gives a different checksum for the same
     * unchanged table after FLUSH TABLES (measured on 10.11.19). Their content is compared row by
     * row instead ({@link #rowDifferences}).
     */
    static java.util.Set<String> unstableChecksumTables(MySqlServer db, String database) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (List<String> r : db.query(database, "SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                + "GROUP BY TABLE_NAME HAVING sum(DATA_TYPE IN ('enum', 'set')) > 0 AND sum(EXTRA LIKE '%STORED GENERATED%' "
                + "OR EXTRA LIKE '%PERSISTENT GENERATED%') > 0")) {
            out.add(r.get(0));
        }
        return out;
    }

    /**
     * Asserts that two databases of one server hold the same rows: CHECKSUM TABLE and row count equal
     * for every table, except that tables of {@link #unstableChecksumTables} are compared row by row.
     */
    static void assertSameContent(MySqlServer db, String a, MySqlServer other, String b) {
        Map<String, String> left = checksums(db, a);
        Map<String, String> right = checksums(other, b);
        org.junit.jupiter.api.Assertions.assertEquals(left.keySet(), right.keySet());
        java.util.Set<String> unstable = unstableChecksumTables(db, a);
        for (String t : left.keySet()) {
            if (unstable.contains(t)) {
                org.junit.jupiter.api.Assertions.assertEquals(left.get(t).split(":")[0], right.get(t).split(":")[0], "row count of " + t);
                org.junit.jupiter.api.Assertions.assertEquals(rowDigest(db, a, t), rowDigest(other, b, t), "rows of " + t);
            } else {
                org.junit.jupiter.api.Assertions.assertEquals(left.get(t), right.get(t), "CHECKSUM TABLE of " + t + "\n"
                        + (db == other ? rowDifferences(db, a, b, List.of(t)) : ""));
            }
        }
    }

    /** An order-independent digest of every column's text (generated and invisible ones included) of every row. */
    static String rowDigest(MySqlServer db, String database, String table) {
        List<String> cols = new java.util.ArrayList<>();
        for (List<String> c : db.query(database, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                + "AND TABLE_NAME = '" + table.replace("'", "''") + "' ORDER BY ORDINAL_POSITION")) {
            cols.add("IFNULL(HEX(CAST(" + MySqlServer.quoteIdent(c.get(0)) + " AS CHAR)), 'NULL')");
        }
        return db.queryForString(database, "SELECT concat(count(*), ':', BIT_XOR(CONV(SUBSTR(MD5(CONCAT_WS('|', " + String.join(", ", cols)
                + ")), 1, 15), 16, 10))) FROM " + MySqlServer.quoteIdent(table));
    }

    /** table → "rows:CHECKSUM TABLE" for every base table of {@code database}. */
    static Map<String, String> checksums(MySqlServer db, String database) {
        Map<String, String> out = new TreeMap<>();
        for (List<String> t : db.query(database, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                + "AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME")) {
            String q = MySqlServer.quoteIdent(t.get(0));
            String count = db.queryForString(database, "SELECT count(*) FROM " + q);
            List<List<String>> cs = db.query(database, "CHECKSUM TABLE " + q + " EXTENDED");
            out.put(t.get(0), count + ":" + cs.get(0).get(1));
        }
        return out;
    }
}
