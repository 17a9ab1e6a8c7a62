package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Catalog queries shared by backup and verification, and JDBC connection handling with clear errors. */
public final class Catalog {
    /** Schemas that belong to the system, not to the user's data. */
    static final String USER_NAMESPACE = "n.nspname NOT IN ('pg_catalog', 'information_schema') "
            + "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'";

    private static final String NOT_EXTENSION_MEMBER = "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '%s'::regclass "
            + "AND dep.objid = %s AND dep.deptype = 'e')";

    private Catalog() {
    }

    /** Opens a JDBC connection, turning driver errors into messages that say what to fix (never with the password). */
    public static Connection connect(PgConnectionConfig cfg, String applicationName) {
        try {
            return DriverManager.getConnection(cfg.jdbcUrl(), cfg.jdbcProperties(applicationName));
        } catch (SQLException e) {
            throw connectionError(cfg, e);
        }
    }

    static RuntimeException connectionError(PgConnectionConfig cfg, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String msg = sanitize(e.getMessage());
        return switch (state) {
            case "28P01", "28000" -> new ConfigurationException("authentication failed for user " + cfg.user() + " on "
                    + cfg.host() + ":" + cfg.port() + " (wrong password or no pg_hba.conf entry): " + msg, e);
            case "3D000" -> new ConfigurationException("database " + cfg.database() + " does not exist on " + cfg.host() + ":"
                    + cfg.port() + ": " + msg, e);
            default -> new EngineException("cannot connect to PostgreSQL at " + cfg.describe() + ": " + msg, e);
        };
    }

    /**
     * Session settings for reading or writing table data outside pg_dump/pg_restore, the same ones
     * pg_dump uses: output that reads back exactly (ISO dates, full float precision), no row security
     * silently hiding rows (an error instead), and no timeout killing a long dump or the idle
     * transaction that holds the exported snapshot. And no JIT compilation, which pg_dump never
     * triggers (its plain {@code COPY table} is not planned): a large table's page range is a
     * {@code COPY (SELECT …)} whose planned cost passes {@code jit_above_cost} from ~60,000 pages (~0.5 GB) on, and
     * LLVM then spends 50–100 ms of the backend's CPU before the first row on code that saves about
     * as much over the scan (docs/performance.md, "jitoff"). The leader's catalog queries over
     * thousands of tables pass it too.
     */
    public static void prepareDataSession(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(DATA_SESSION_SETTINGS);
        }
    }

    public static final String DATA_SESSION_SETTINGS = "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; "
            + "SET row_security = off; SET statement_timeout = 0; SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0; SET jit = off";

    /** Wraps an SQL failure during work as an EngineException naming what was being done. */
    public static EngineException sqlError(String what, SQLException e) {
        return new EngineException(what + " failed: " + sanitize(e.getMessage()) + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")"), e);
    }

    static String sanitize(String message) {
        return message == null ? "" : message.replaceAll("(?i)password=[^&\\s]*", "password=***");
    }

    public static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    public static String quoteLiteral(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    public static String qualified(String schema, String name) {
        return quoteIdent(schema) + "." + quoteIdent(name);
    }

    /** One table as the backup sees it. */
    public record TableInfo(long oid, String schema, String name, boolean partitioned, String parent, long bytes, long pages,
                            boolean unlogged) {
        public TableInfo(long oid, String schema, String name, boolean partitioned, String parent, long bytes) {
            this(oid, schema, name, partitioned, parent, bytes, 0, false);
        }

        public String qualifiedName() {
            return schema + "." + name;
        }

        public String sql() {
            return qualified(schema, name);
        }
    }

    /** Tables (ordinary and partitioned) in user schemas, not members of extensions. */
    public static List<TableInfo> tables(Connection c) throws SQLException {
        String sql = "SELECT c.oid, n.nspname, c.relname, c.relkind = 'p', "
                + " (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent "
                + "   JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1), "
                // pg_table_size includes TOAST, which is what pg_dump has to read
                + " CASE WHEN c.relkind = 'r' THEN pg_table_size(c.oid) ELSE 0 END, "
                + " CASE WHEN c.relkind = 'r' THEN pg_relation_size(c.oid) / current_setting('block_size')::bigint ELSE 0 END, "
                + " c.relpersistence = 'u' "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't' AND " + USER_NAMESPACE + " AND "
                + String.format(NOT_EXTENSION_MEMBER, "pg_class", "c.oid")
                + " ORDER BY n.nspname, c.relname";
        List<TableInfo> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(new TableInfo(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getBoolean(4), rs.getString(5), rs.getLong(6),
                        rs.getLong(7), rs.getBoolean(8)));
            }
        }
        return out;
    }

    /** Columns COPY can write and read back: not dropped, not generated; in table order. */
    public static List<String> copyColumns(Connection c, long tableOid) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = ? AND attnum > 0 "
                + "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum")) {
            ps.setLong(1, tableOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** {@link #copyColumns} of every user table at once (one query, however many tables), by table oid. */
    public static Map<Long, List<String>> copyColumnsOfAll(Connection c) throws SQLException {
        return multimap(c, "SELECT a.attrelid, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
                + "AND a.attgenerated = '' AND " + USER_NAMESPACE + " ORDER BY a.attrelid, a.attnum");
    }

    /** Sequences owned by a column of each table (schema.seq), by table oid. */
    public static Map<Long, List<String>> ownedSequences(Connection c) throws SQLException {
        String sql = "SELECT d.refobjid, n.nspname || '.' || s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
                + "JOIN pg_namespace n ON n.oid = s.relnamespace WHERE d.classid = 'pg_class'::regclass "
                + "AND d.refclassid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 "
                + "ORDER BY 2";
        return multimap(c, sql);
    }

    /** Index names (schema.index) by table oid. */
    public static Map<Long, List<String>> indexes(Connection c) throws SQLException {
        return multimap(c, "SELECT i.indrelid, n.nspname || '.' || ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
                + "JOIN pg_namespace n ON n.oid = ic.relnamespace ORDER BY 2");
    }

    /** Tables (schema.table) referenced by each table's foreign keys, by table oid. */
    public static Map<Long, List<String>> references(Connection c) throws SQLException {
        return multimap(c, "SELECT DISTINCT co.conrelid, n.nspname || '.' || r.relname FROM pg_constraint co "
                + "JOIN pg_class r ON r.oid = co.confrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE co.contype = 'f' ORDER BY 2");
    }

    private static Map<Long, List<String>> multimap(Connection c, String sql) throws SQLException {
        Map<Long, List<String>> out = new LinkedHashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
            }
        }
        return out;
    }

    /** Exact row count of one table without its inheritance children. */
    public static long countRows(Connection c, String schema, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM ONLY " + qualified(schema, table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Installed extensions: name → version, with schema. */
    public static List<Map<String, Object>> extensions(Connection c) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT e.extname, e.extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1")) {
            while (rs.next()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", rs.getString(1));
                m.put("version", rs.getString(2));
                m.put("schema", rs.getString(3));
                out.add(m);
            }
        }
        return out;
    }

    /**
     * Encoding, locale, size and the database-level properties pg_dump writes only with --create
     * (which a per-section dump never uses): owner, grants, comment, connection limit, and the
     * settings of ALTER DATABASE … SET and ALTER ROLE … IN DATABASE … SET.
     */
    public static Map<String, Object> databaseInfo(Connection c, PgVersion version) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean defaultAcl;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT current_database(), pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, " + version.databaseLocaleColumns()
                        + ", pg_database_size(d.oid), current_setting('server_version'), current_setting('server_version_num')::int, "
                        + "pg_get_userbyid(d.datdba), shobj_description(d.oid, 'pg_database'), d.datconnlimit, d.datacl IS NULL "
                        + "FROM pg_database d WHERE d.datname = current_database()")) {
            rs.next();
            m.put("database", rs.getString(1));
            m.put("encoding", rs.getString(2));
            m.put("lcCollate", rs.getString(3));
            m.put("lcCtype", rs.getString(4));
            String provider = rs.getString(5);
            m.put("localeProvider", provider);
            m.put("locale", rs.getString(6));
            if ("i".equals(provider)) {
                // the name older readers look for
                m.put("iculocale", rs.getString(6));
            }
            m.put("icuRules", rs.getString(7));
            m.put("databaseSize", rs.getLong(8));
            m.put("serverVersion", rs.getString(9).split(" ")[0]);
            m.put("serverVersionNum", rs.getInt(10));
            m.put("databaseOwner", rs.getString(11));
            m.put("databaseComment", rs.getString(12));
            m.put("databaseConnectionLimit", rs.getInt(13));
            defaultAcl = rs.getBoolean(14);
        }
        if (!defaultAcl) {
            // null means "the defaults" (PUBLIC may connect and create temporary tables); a list replaces them
            List<Map<String, Object>> acl = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable "
                            + "FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() ORDER BY 1, 2")) {
                while (rs.next()) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("grantee", rs.getString(1));
                    e.put("privilege", rs.getString(2));
                    e.put("grantable", rs.getBoolean(3));
                    acl.add(e);
                }
            }
            m.put("databaseAcl", acl);
        }
        List<String> settings = new ArrayList<>();
        List<Map<String, Object>> roleSettings = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT s.setrole, pg_get_userbyid(s.setrole), "
                + "unnest(s.setconfig) FROM pg_db_role_setting s "
                + "WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1")) {
            while (rs.next()) {
                if (rs.getLong(1) == 0) {
                    settings.add(rs.getString(3));
                } else {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("role", rs.getString(2));
                    e.put("setting", rs.getString(3));
                    roleSettings.add(e);
                }
            }
        }
        m.put("databaseSettings", settings);
        m.put("databaseRoleSettings", roleSettings);
        return m;
    }

    /**
     * The roles this database's objects depend on, by how: {@code owner} (of any object, from
     * pg_shdepend; the bootstrap superuser, which pg_shdepend leaves out, when it owns a user
     * object), {@code grantee} (of any grant) and {@code policy} (named in a row security policy).
     * A restore checks them before it starts.
     */
    public static Map<String, List<String>> referencedRoles(Connection c) throws SQLException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        out.put("owner", new ArrayList<>());
        out.put("grantee", new ArrayList<>());
        out.put("policy", new ArrayList<>());
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT DISTINCT CASE s.deptype WHEN 'o' THEN 'owner' "
                + "WHEN 'a' THEN 'grantee' ELSE 'policy' END, r.rolname FROM pg_shdepend s JOIN pg_roles r ON r.oid = s.refobjid "
                + "WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                + "AND s.refclassid = 'pg_authid'::regclass AND s.deptype IN ('o', 'a', 'r') ORDER BY 1, 2")) {
            while (rs.next()) {
                out.get(rs.getString(1)).add(rs.getString(2));
            }
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT rolname FROM pg_roles WHERE oid = 10 AND ("
                + "EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relowner = 10 AND "
                + USER_NAMESPACE + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_class", "c.oid") + ") "
                + "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proowner = 10 AND "
                + USER_NAMESPACE + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_proc", "p.oid") + ") "
                + "OR EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspowner = 10 AND n.nspname <> 'public' AND " + USER_NAMESPACE
                + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_namespace", "n.oid") + "))")) {
            if (rs.next() && !out.get("owner").contains(rs.getString(1))) {
                out.get("owner").add(rs.getString(1));
            }
        }
        return out;
    }

    /** One sequence's state: what {@code SELECT last_value, is_called FROM seq} says. */
    public record SequenceState(String schema, String name, long lastValue, boolean isCalled, String ownedBy) {
        public String qualifiedName() {
            return schema + "." + name;
        }
    }

    /**
     * The state of every user sequence (identity, serial and free-standing; not those of
     * extensions), read in batches of a few hundred per query. Sequences are not transactional:
     * this is their value now, which is at least what any row in the snapshot used.
     *
     * @param skipUnlogged leave out unlogged sequences, which cannot be read on a standby
     */
    public static List<SequenceState> sequences(Connection c, boolean skipUnlogged) throws SQLException {
        record Seq(String schema, String name, String ownedBy) {
        }
        List<Seq> seqs = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname, "
                + "(SELECT tn.nspname || '.' || t.relname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid "
                + "  JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
                + "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0 LIMIT 1) "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND c.relpersistence <> 't' "
                + (skipUnlogged ? "AND c.relpersistence <> 'u' " : "") + "AND " + USER_NAMESPACE + " AND "
                + String.format(NOT_EXTENSION_MEMBER, "pg_class", "c.oid") + " ORDER BY 1, 2")) {
            while (rs.next()) {
                seqs.add(new Seq(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        }
        List<SequenceState> out = new ArrayList<>();
        for (int from = 0; from < seqs.size(); from += 500) {
            List<Seq> batch = seqs.subList(from, Math.min(seqs.size(), from + 500));
            StringBuilder sql = new StringBuilder();
            for (int i = 0; i < batch.size(); i++) {
                sql.append(i == 0 ? "" : " UNION ALL ").append("SELECT ").append(i).append(", last_value, is_called FROM ")
                        .append(qualified(batch.get(i).schema(), batch.get(i).name()));
            }
            long[] last = new long[batch.size()];
            boolean[] called = new boolean[batch.size()];
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql.toString())) {
                while (rs.next()) {
                    last[rs.getInt(1)] = rs.getLong(2);
                    called[rs.getInt(1)] = rs.getBoolean(3);
                }
            }
            for (int i = 0; i < batch.size(); i++) {
                out.add(new SequenceState(batch.get(i).schema(), batch.get(i).name(), last[i], called[i], batch.get(i).ownedBy()));
            }
        }
        return out;
    }

    /** Whether the server is a standby (in recovery). */
    public static boolean inRecovery(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Tables and sequences that extensions registered with pg_extension_config_dump: their rows are user data. */
    public static List<String[]> extensionConfigRelations(Connection c) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname FROM pg_extension e "
                + "CROSS JOIN LATERAL unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY 1, 2")) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        return out;
    }

    /** Schema and name of every relation a pg_dump --table pattern could select (tables, sequences, views, …). */
    public static List<String[]> dumpableRelationNames(Connection c) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT n.nspname, c.relname FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p')")) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        return out;
    }

    /**
     * A pg_dump/psql name pattern that selects this relation, in ASCII only: both parts in double
     * quotes (no wildcard applies), and each non-ASCII character written as {@code ?} outside the
     * quotes. pg_dump reads its arguments in the dump's client encoding while the JVM writes them in
     * its own (often ASCII in containers), so a non-ASCII byte could never be matched reliably; the
     * caller checks that a pattern with {@code ?} selects nothing else ({@link #patternMatches}).
     */
    public static String dumpPattern(String schema, String name) {
        return namePattern(schema) + "." + namePattern(name);
    }

    private static String namePattern(String part) {
        StringBuilder sb = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < part.length(); ) {
            int cp = part.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < 0x80) {
                if (!quoted) {
                    sb.append('"');
                    quoted = true;
                }
                if (cp == '"') {
                    sb.append("\"\"");
                } else {
                    sb.append((char) cp);
                }
            } else {
                if (quoted) {
                    sb.append('"');
                    quoted = false;
                }
                sb.append('?');
            }
        }
        if (quoted) {
            sb.append('"');
        }
        if (sb.length() == 0) {
            sb.append("\"\"");
        }
        return sb.toString();
    }

    /** Whether {@link #dumpPattern} of (schema, name) selects the relation (s, n): ? matches any one character. */
    public static boolean patternMatches(String schema, String name, String s, String n) {
        return partMatches(schema, s) && partMatches(name, n);
    }

    private static boolean partMatches(String pattern, String actual) {
        int[] p = pattern.codePoints().toArray();
        int[] a = actual.codePoints().toArray();
        if (p.length != a.length) {
            return false;
        }
        for (int i = 0; i < p.length; i++) {
            // a non-ASCII character became "?", which matches any one character
            if (p[i] < 0x80 && p[i] != a[i]) {
                return false;
            }
        }
        return true;
    }

    public static int serverVersionNum(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1));
        }
    }

    public static String serverVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version")) {
            rs.next();
            return rs.getString(1).split(" ")[0];
        }
    }

    public static long largeObjectCount(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_largeobject_metadata")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    public static boolean databaseExists(Connection maintenance, String name) throws SQLException {
        try (PreparedStatement ps = maintenance.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    public static long databaseSize(Connection maintenance, String name) throws SQLException {
        try (PreparedStatement ps = maintenance.prepareStatement("SELECT pg_database_size(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * A SHA-256 over a normalized description of the user schema: relations, columns with types,
     * defaults and nullability, constraints, indexes, triggers, policies, views, functions, enum
     * labels and domains. Independent of OIDs, dropped columns and physical order, so a restored
     * copy has the same fingerprint as its source.
     */
    public static String schemaFingerprint(Connection c) throws SQLException {
        return fingerprintOf(schemaDescription(c));
    }

    public static String fingerprintOf(List<String> lines) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String line : lines) {
                md.update(line.getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The sorted lines the fingerprint is computed over. */
    public static List<String> schemaDescription(Connection c) throws SQLException {
        String relFilter = USER_NAMESPACE + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_class", "c.oid");
        String[] queries = {
            "SELECT 'relation ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' kind ' || c.relkind::text "
                + "|| ' rls ' || c.relrowsecurity::text || coalesce(' partition ' || pg_get_expr(c.relpartbound, c.oid), '') "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE c.relkind IN ('r','p','v','m','f','S') AND c.relpersistence <> 't' AND " + relFilter,
            "SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' #' "
                + "|| row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) || ' ' || quote_ident(a.attname) || ' ' "
                + "|| format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END "
                + "|| coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '') "
                + "|| CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END "
                + "|| CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END "
                + "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum "
                + "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f') AND " + relFilter,
            "SELECT 'constraint ' || quote_ident(n.nspname) || '.' || coalesce(quote_ident(c.relname), format_type(co.contypid, NULL)) "
                + "|| ' ' || quote_ident(co.conname) || ' ' || pg_get_constraintdef(co.oid) "
                + "FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace LEFT JOIN pg_class c ON c.oid = co.conrelid "
                + "WHERE " + USER_NAMESPACE + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_constraint", "co.oid")
                + " AND (c.oid IS NULL OR " + String.format(NOT_EXTENSION_MEMBER, "pg_class", "c.oid") + ")",
            "SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " + relFilter,
            "SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND " + relFilter,
            "SELECT 'policy ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || quote_ident(p.polname) || ' ' "
                + "|| p.polcmd::text || ' ' || p.polpermissive::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' "
                + "|| coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " + relFilter,
            "SELECT 'view ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || pg_get_viewdef(c.oid) "
                + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v','m') AND " + relFilter,
            "SELECT 'function ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' "
                + "|| pg_get_function_identity_arguments(p.oid) || ') ' || pg_get_function_result(p.oid) || ' ' || md5(p.prosrc) "
                + "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind <> 'a' AND " + USER_NAMESPACE
                + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_proc", "p.oid"),
            "SELECT 'type ' || format_type(t.oid, NULL) || ' ' || t.typtype::text || coalesce(' ' || format_type(t.typbasetype, t.typtypmod), '') "
                + "|| CASE WHEN t.typnotnull THEN ' not null' ELSE '' END "
                + "|| coalesce(' labels ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e "
                + "WHERE e.enumtypid = t.oid), '') FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                + "WHERE t.typtype IN ('e','d','c') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c') "
                + "AND " + USER_NAMESPACE + " AND " + String.format(NOT_EXTENSION_MEMBER, "pg_type", "t.oid"),
        };
        List<String> lines = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            // object names in definitions are qualified relative to search_path: fix it so both sides agree
            st.execute("SELECT set_config('search_path', 'pg_catalog', false)");
            for (String q : queries) {
                try (ResultSet rs = st.executeQuery(q)) {
                    while (rs.next()) {
                        String s = rs.getString(1);
                        if (s != null) {
                            lines.add(s);
                        }
                    }
                }
            }
        }
        Collections.sort(lines);
        return lines;
    }
}
