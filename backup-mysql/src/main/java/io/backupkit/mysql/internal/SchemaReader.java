package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.backupkit.mysql.internal.Sessions.literal;
import static io.backupkit.mysql.internal.Sessions.quote;

/**
 * Reads a database's schema: every object's creating statement (SHOW CREATE …, read with the
 * database as the session's default, so names inside are unqualified and the objects can be
 * restored under another database name) and the tables' columns and keys.
 */
public final class SchemaReader {
    private static final java.util.regex.Pattern GENERATED = java.util.regex.Pattern.compile(
            "\\b(VIRTUAL|STORED|PERSISTENT) GENERATED\\b", java.util.regex.Pattern.CASE_INSENSITIVE);

    private final Connection c;
    private final ServerVersion version;
    private final Set<String> transactionalEngines;

    /**
     * A database's schema.
     *
     * @param name    the database
     * @param objects every object in creation order (the database first)
     * @param tables  the tables whose rows are dumped
     */
    public record DatabaseSchema(String name, List<SchemaObject> objects, List<TableInfo> tables) {
        public long count(SchemaObject.Kind kind) {
            return objects.stream().filter(o -> o.kind() == kind).count();
        }
    }

    public SchemaReader(Connection c, ServerVersion version) throws SQLException {
        this.c = c;
        this.version = version;
        this.transactionalEngines = new HashSet<>();
        for (List<String> r : Sessions.query(c, "SELECT ENGINE, TRANSACTIONS FROM information_schema.ENGINES")) {
            if ("YES".equalsIgnoreCase(r.get(1))) {
                transactionalEngines.add(r.get(0).toLowerCase(Locale.ROOT));
            }
        }
    }

    /** The non-system databases of the server, sorted. */
    public List<String> databases() throws SQLException {
        List<String> out = new ArrayList<>();
        for (List<String> r : Sessions.query(c, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME")) {
            if (!ServerVersion.isSystemDatabase(r.get(0))) {
                out.add(r.get(0));
            }
        }
        return out;
    }

    public boolean databaseExists(String db) throws SQLException {
        return !Sessions.query(c, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + literal(db)).isEmpty();
    }

    /** Reads one database; leaves it as the session's default database. */
    public DatabaseSchema read(String db) throws SQLException {
        Sessions.execute(c, "USE " + quote(db));
        List<SchemaObject> objects = new ArrayList<>();
        List<TableInfo> tables = new ArrayList<>();
        boolean hasComment = version.isMariaDb() && version.atLeast(10, 5, 0);
        List<Map<String, String>> dbRow = maps("SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS coll"
                + (hasComment ? ", SCHEMA_COMMENT AS cmt" : "") + " FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + literal(db));
        if (dbRow.isEmpty()) {
            throw new ConfigurationException("database " + db + " does not exist");
        }
        Map<String, String> d = dbRow.get(0);
        String options = "CHARACTER SET " + d.get("cs") + " COLLATE " + d.get("coll")
                + (d.get("cmt") == null || d.get("cmt").isEmpty() ? "" : " COMMENT " + literal(d.get("cmt")));
        objects.add(SchemaObject.of(SchemaObject.Kind.DATABASE, db, options));

        List<Map<String, String>> tableRows = maps("SELECT TABLE_NAME AS name, TABLE_TYPE AS type, ENGINE AS engine, "
                + "DATA_LENGTH AS len FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + literal(db) + " ORDER BY TABLE_NAME");
        Map<String, List<ColumnInfo>> columns = columns(db);
        Map<String, List<String>> keys = primaryKeys(db);
        List<SchemaObject> views = new ArrayList<>();
        for (Map<String, String> t : tableRows) {
            String name = t.get("name");
            String type = t.get("type") == null ? "" : t.get("type").toUpperCase(Locale.ROOT);
            switch (type) {
                case "VIEW" -> {
                    Map<String, String> v = one("SHOW CREATE VIEW " + quote(name), "view", db, name);
                    views.add(new SchemaObject(SchemaObject.Kind.VIEW, name, null, required(v, "Create View", "view", db, name),
                            null, v.get("character_set_client"), v.get("collation_connection"), null));
                }
                case "SEQUENCE" -> {
                    Map<String, String> s = one("SHOW CREATE SEQUENCE " + quote(name), "sequence", db, name);
                    String next = Sessions.queryForString(c, "SELECT next_not_cached_value FROM " + quote(name));
                    objects.add(new SchemaObject(SchemaObject.Kind.SEQUENCE, name, null, required(s, "Create Table", "sequence", db, name),
                            null, null, null, next == null ? null : "SELECT SETVAL(" + quote(name) + ", " + next + ", 0)"));
                }
                case "BASE TABLE", "SYSTEM VERSIONED" -> {
                    Map<String, String> s = one("SHOW CREATE TABLE " + quote(name), "table", db, name);
                    objects.add(SchemaObject.of(SchemaObject.Kind.TABLE, name, required(s, "Create Table", "table", db, name)));
                    String engine = t.get("engine") == null ? "" : t.get("engine");
                    List<ColumnInfo> cols = columns.getOrDefault(name, List.of());
                    if (cols.isEmpty()) {
                        throw new EngineException("table " + db + "." + name + " has no columns in information_schema.COLUMNS "
                                + "(does the backup user lack SELECT on it?)");
                    }
                    tables.add(new TableInfo(db, name, engine, transactionalEngines.contains(engine.toLowerCase(Locale.ROOT)),
                            cols, keys.getOrDefault(name, List.of()), parseLong(t.get("len"))));
                }
                default -> {
                    // temporary tables and other kinds are not part of a database's durable state
                }
            }
        }
        objects.addAll(views);
        for (Map<String, String> r : maps("SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES "
                + "WHERE ROUTINE_SCHEMA = " + literal(db) + " ORDER BY ROUTINE_TYPE, ROUTINE_NAME")) {
            String type = r.get("type").toUpperCase(Locale.ROOT);
            SchemaObject.Kind kind = switch (type) {
                case "FUNCTION" -> SchemaObject.Kind.FUNCTION;
                case "PROCEDURE" -> SchemaObject.Kind.PROCEDURE;
                default -> throw new EngineException("database " + db + " holds a " + type.toLowerCase(Locale.ROOT) + " ("
                        + r.get("name") + "); Oracle-mode packages are not supported by backupkit yet");
            };
            String label = kind.label();
            Map<String, String> s = one("SHOW CREATE " + type + " " + quote(r.get("name")), label, db, r.get("name"));
            String sql = s.get("Create " + (kind == SchemaObject.Kind.FUNCTION ? "Function" : "Procedure"));
            if (sql == null) {
                throw new ConfigurationException("cannot read the definition of " + label + " " + db + "." + r.get("name")
                        + ": the backup user lacks the privilege to see routine bodies (grant SELECT on mysql.proc, "
                        + "or SHOW CREATE ROUTINE on MariaDB 11.3+/MySQL 8.0.20+)");
            }
            objects.add(new SchemaObject(kind, r.get("name"), null, sql, s.get("sql_mode"), s.get("character_set_client"),
                    s.get("collation_connection"), null));
        }
        for (Map<String, String> r : maps("SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_ORDER AS ord "
                + "FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " + literal(db)
                + " ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER")) {
            Map<String, String> s = one("SHOW CREATE TRIGGER " + quote(r.get("name")), "trigger", db, r.get("name"));
            objects.add(new SchemaObject(SchemaObject.Kind.TRIGGER, r.get("name"), r.get("tbl"),
                    required(s, "SQL Original Statement", "trigger", db, r.get("name")), s.get("sql_mode"), s.get("character_set_client"),
                    s.get("collation_connection"), r.get("ord")));
        }
        for (Map<String, String> r : maps("SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = "
                + literal(db) + " ORDER BY EVENT_NAME")) {
            Map<String, String> s = one("SHOW CREATE EVENT " + quote(r.get("name")), "event", db, r.get("name"));
            objects.add(new SchemaObject(SchemaObject.Kind.EVENT, r.get("name"), null, required(s, "Create Event", "event", db, r.get("name")),
                    s.get("sql_mode"), s.get("character_set_client"), s.get("collation_connection"), s.get("time_zone")));
        }
        return new DatabaseSchema(db, objects, tables);
    }

    private Map<String, List<ColumnInfo>> columns(String db) throws SQLException {
        Map<String, List<ColumnInfo>> out = new TreeMap<>();
        for (Map<String, String> r : maps("SELECT TABLE_NAME AS tbl, COLUMN_NAME AS col, DATA_TYPE AS type, EXTRA AS extra "
                + "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " + literal(db) + " ORDER BY TABLE_NAME, ORDINAL_POSITION")) {
            boolean generated = r.get("extra") != null && GENERATED.matcher(r.get("extra")).find();
            out.computeIfAbsent(r.get("tbl"), k -> new ArrayList<>()).add(new ColumnInfo(r.get("col"), r.get("type"), generated));
        }
        return out;
    }

    private Map<String, List<String>> primaryKeys(String db) throws SQLException {
        Map<String, List<String>> out = new TreeMap<>();
        for (Map<String, String> r : maps("SELECT TABLE_NAME AS tbl, COLUMN_NAME AS col FROM information_schema.STATISTICS "
                + "WHERE TABLE_SCHEMA = " + literal(db) + " AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX")) {
            out.computeIfAbsent(r.get("tbl"), k -> new ArrayList<>()).add(r.get("col"));
        }
        return out;
    }

    private Map<String, String> one(String sql, String kind, String db, String name) throws SQLException {
        List<Map<String, String>> rows;
        try {
            rows = maps(sql);
        } catch (SQLException e) {
            if (Sessions.errorCode(e) == Sessions.TABLE_DEF_CHANGED || Sessions.errorCode(e) == Sessions.NO_SUCH_TABLE) {
                throw new EngineException(kind + " " + db + "." + name + " changed or disappeared while the backup read the schema; "
                        + "run the backup again", e);
            }
            throw new EngineException("cannot read the definition of " + kind + " " + db + "." + name + ": " + e.getMessage(), e);
        }
        if (rows.isEmpty()) {
            throw new EngineException(kind + " " + db + "." + name + " disappeared while the backup read the schema; run the backup again");
        }
        return rows.get(0);
    }

    private static String required(Map<String, String> row, String column, String kind, String db, String name) {
        String v = row.get(column);
        if (v == null) {
            throw new ConfigurationException("cannot read the definition of " + kind + " " + db + "." + name
                    + ": the server returned none (does the backup user lack a privilege on it?)");
        }
        return v;
    }

    /** Rows as label → value (UTF-8). */
    List<Map<String, String>> maps(String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            int n = md.getColumnCount();
            List<Map<String, String>> rows = new ArrayList<>();
            while (rs.next()) {
                Map<String, String> row = new LinkedHashMap<>();
                for (int i = 1; i <= n; i++) {
                    row.put(md.getColumnLabel(i), rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
