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
                        String stream, List<String> sequences, List<String> indexes, List<String> references, List<String> parts) {
        public Table(String name, String schema, String table, boolean partitioned, String parent, long rows, long bytes,
                     String stream, List<String> sequences, List<String> indexes, List<String> references) {
            this(name, schema, table, partitioned, parent, rows, bytes, stream, sequences, indexes, references, List.of());
        }
    }

    /** A page range of a split table: COPY text for these columns. */
    public record Part(String stream, String table, String schema, String name, List<String> columns) {
    }

    private BackupMetadata(Map<String, Object> raw) {
        this.raw = raw;
        List<Table> t = new ArrayList<>();
        for (Object o : list(raw.get("tables"))) {
            Map<?, ?> m = (Map<?, ?>) o;
            t.add(new Table(str(m.get("name")), str(m.get("schema")), str(m.get("table")), Boolean.TRUE.equals(m.get("partitioned")),
                    str(m.get("parent")), num(m.get("rows")), num(m.get("bytes")), str(m.get("stream")),
                    strings(m.get("sequences")), strings(m.get("indexes")), strings(m.get("references")), strings(m.get("parts"))));
        }
        this.tables = List.copyOf(t);
    }

    public static BackupMetadata of(Snapshot snapshot) {
        Map<String, Object> m = snapshot.metadata();
        if (!LogicalBackup.FORMAT.equals(m.get("format"))) {
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
                        strings(p.get("columns"))));
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
