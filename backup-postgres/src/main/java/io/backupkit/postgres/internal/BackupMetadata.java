package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.Snapshot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The engine metadata of a logical snapshot, read back from the manifest (JSON maps and lists). */
public final class BackupMetadata {
    private final Map<String, Object> raw;
    private final List<Table> tables;

    /** A table as recorded at backup time. */
    public record Table(String name, String schema, String table, boolean partitioned, String parent, long rows, long bytes,
                        String stream, List<String> sequences, List<String> indexes, List<String> references, List<String> parts,
                        List<String> columns) {
        public Table(String name, String schema, String table, boolean partitioned, String parent, long rows, long bytes,
                     String stream, List<String> sequences, List<String> indexes, List<String> references) {
            this(name, schema, table, partitioned, parent, rows, bytes, stream, sequences, indexes, references, List.of(), List.of());
        }
    }

    /** A page range of a split table: COPY text for these columns, in {@code encoding} (null: the session's client encoding, format 1). */
    public record Part(String stream, String table, String schema, String name, List<String> columns, String encoding) {
    }

    /** A sequence's saved state. */
    public record Sequence(String name, String schema, String sequence, long lastValue, boolean isCalled, String ownedBy) {
    }

    /** One grant on the database: privilege (CONNECT, CREATE, TEMPORARY) to a role or PUBLIC. */
    public record Grant(String grantee, String privilege, boolean grantable) {
    }

    private BackupMetadata(Map<String, Object> raw) {
        this.raw = raw;
        List<Table> t = new ArrayList<>();
        for (Object o : list(raw.get("tables"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            t.add(new Table(str(m.get("name")), str(m.get("schema")), str(m.get("table")), Boolean.TRUE.equals(m.get("partitioned")),
                    str(m.get("parent")), num(m.get("rows")), num(m.get("bytes")), str(m.get("stream")),
                    strings(m.get("sequences")), strings(m.get("indexes")), strings(m.get("references")), strings(m.get("parts")),
                    strings(m.get("columns"))));
        }
        this.tables = List.copyOf(t);
    }

    public static BackupMetadata of(Snapshot snapshot) {
        Map<String, Object> m = snapshot.metadata();
        if (!LogicalBackup.FORMAT.equals(m.get("format")) && !LogicalBackup.FORMAT_V1.equals(m.get("format"))) {
            throw new ConfigurationException("snapshot " + snapshot.shortId() + " is not a PostgreSQL logical backup (engine "
                    + snapshot.engine() + ", format " + m.get("format") + ")");
        }
        return new BackupMetadata(m);
    }

    public List<Table> tables() {
        return tables;
    }

    public String database() {
        return str(raw.get("database"));
    }

    public String encoding() {
        return str(raw.get("encoding"));
    }

    public String lcCollate() {
        return str(raw.get("lcCollate"));
    }

    public String lcCtype() {
        return str(raw.get("lcCtype"));
    }

    public String localeProvider() {
        return str(raw.get("localeProvider"));
    }

    public String iculocale() {
        return str(raw.get("iculocale"));
    }

    /** The locale of the provider (ICU or builtin); format 1 recorded only the ICU one. */
    public String providerLocale() {
        Object l = raw.get("locale");
        return l != null ? str(l) : iculocale();
    }

    public String icuRules() {
        return str(raw.get("icuRules"));
    }

    /** Whether table data is COPY text (format 2) rather than pg_dump archives (format 1). */
    public boolean copyData() {
        return "copy-text".equals(raw.get("dataFormat"));
    }

    /** The encoding COPY data was written in; format 1 wrote it in psql's default, the database encoding. */
    public String copyEncoding() {
        Object e = raw.get("copyEncoding");
        return e != null ? str(e) : encoding();
    }

    /** Saved sequence values (format 2); empty for format 1, whose values are inside the pg_dump archives. */
    public List<Sequence> sequences() {
        List<Sequence> out = new ArrayList<>();
        for (Object o : list(raw.get("sequences"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.add(new Sequence(str(m.get("name")), str(m.get("schema")), str(m.get("sequence")), num(m.get("lastValue")),
                    Boolean.TRUE.equals(m.get("isCalled")), str(m.get("ownedBy"))));
        }
        return out;
    }

    public String databaseOwner() {
        return str(raw.get("databaseOwner"));
    }

    public String databaseComment() {
        return str(raw.get("databaseComment"));
    }

    /** CONNECTION LIMIT of the database (-1: none), or null when not recorded. */
    public Integer databaseConnectionLimit() {
        Object o = raw.get("databaseConnectionLimit");
        return o == null ? null : (int) num(o);
    }

    /** Grants on the database; null when it had the default privileges (or the snapshot did not record them). */
    public List<Grant> databaseAcl() {
        if (!raw.containsKey("databaseAcl")) {
            return null;
        }
        List<Grant> out = new ArrayList<>();
        for (Object o : list(raw.get("databaseAcl"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.add(new Grant(str(m.get("grantee")), str(m.get("privilege")), Boolean.TRUE.equals(m.get("grantable"))));
        }
        return out;
    }

    /** ALTER ROLE … IN DATABASE … SET settings: role → "name=value". */
    public List<String[]> databaseRoleSettings() {
        List<String[]> out = new ArrayList<>();
        for (Object o : list(raw.get("databaseRoleSettings"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            out.add(new String[] {str(m.get("role")), str(m.get("setting"))});
        }
        return out;
    }

    /** Roles the database's objects depend on, by kind (owner, grantee, policy); empty when not recorded. */
    public Map<String, List<String>> roles() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw.get("roles") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(k.toString(), strings(v)));
        }
        return out;
    }

    /** The stream holding pg_dumpall --globals-only, or null. */
    public String globalsStream() {
        return str(raw.get("globals"));
    }

    /** "name=value" settings of ALTER DATABASE … SET on the source. */
    public List<String> databaseSettings() {
        return strings(raw.get("databaseSettings"));
    }

    public String schemaFingerprint() {
        return str(raw.get("schemaFingerprint"));
    }

    public String serverVersion() {
        return str(raw.get("serverVersion"));
    }

    public int serverMajor() {
        return (int) (num(raw.get("serverVersionNum")) / 10000);
    }

    public boolean hasExtension(String name) {
        return extensionVersion(name) != null;
    }

    public String extensionVersion(String name) {
        for (Object o : list(raw.get("extensions"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            if (name.equals(m.get("name"))) {
                return str(m.get("version"));
            }
        }
        return null;
    }

    /** COPY part streams by name. */
    public Map<String, Part> parts() {
        Map<String, Part> out = new LinkedHashMap<>();
        if (raw.get("parts") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                Map<?, ?> p = (Map<?, ?>) v;
                out.put(k.toString(), new Part(k.toString(), str(p.get("table")), str(p.get("schema")), str(p.get("name")),
                        strings(p.get("columns")), str(p.get("encoding"))));
            });
        }
        return out;
    }

    /** Shard stream name → tables (schema.table) in it. */
    public Map<String, List<String>> shards() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Object s = raw.get("shards");
        if (s instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(k.toString(), strings(v)));
        }
        return out;
    }

    private static List<?> list(Object o) {
        return o instanceof List<?> l ? l : List.of();
    }

    private static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        for (Object e : list(o)) {
            out.add(String.valueOf(e));
        }
        return List.copyOf(out);
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }

    private static long num(Object o) {
        if (o instanceof Number n) {
            return n.longValue();
        }
        if (o instanceof String s && !s.isEmpty()) {
            return Long.parseLong(s);
        }
        return 0;
    }
}
