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
