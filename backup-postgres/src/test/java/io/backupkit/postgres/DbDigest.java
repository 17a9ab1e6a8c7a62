package io.backupkit.postgres;

import io.backupkit.postgres.testing.PostgresServer;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Content digests of a database, to compare a source with its restore. */
final class DbDigest {
    private DbDigest() {
    }

    /** schema.table → md5 over all rows in a fixed order, with the row count. */
    static Map<String, String> tables(PostgresServer pg, String db) {
        Map<String, String> out = new TreeMap<>();
        List<List<String>> tables = pg.query(db, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'");
        for (List<String> t : tables) {
            String q = PostgresServer.quoteIdent(t.get(0)) + "." + PostgresServer.quoteIdent(t.get(1));
            out.put(t.get(0) + "." + t.get(1), pg.queryForString(db,
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(x.r, E'\\n' ORDER BY x.r COLLATE \"C\")), '-') "
                            + "FROM (SELECT t::text AS r FROM ONLY " + q + " t) x"));
        }
        return out;
    }

    /** schema.sequence → last_value/is_called. */
    static Map<String, String> sequences(PostgresServer pg, String db) {
        Map<String, String> out = new TreeMap<>();
        for (List<String> s : pg.query(db, "SELECT schemaname, sequencename FROM pg_sequences")) {
            String q = PostgresServer.quoteIdent(s.get(0)) + "." + PostgresServer.quoteIdent(s.get(1));
            out.put(s.get(0) + "." + s.get(1), pg.queryForString(db, "SELECT last_value || '/' || is_called FROM " + q));
        }
        return out;
    }

    /** md5 of every large object's content, by oid. */
    static Map<String, String> largeObjects(PostgresServer pg, String db) {
        Map<String, String> out = new TreeMap<>();
        for (List<String> r : pg.query(db, "SELECT oid::text, md5(lo_get(oid)) FROM pg_largeobject_metadata")) {
            out.put(r.get(0), r.get(1));
        }
        return out;
    }
}
