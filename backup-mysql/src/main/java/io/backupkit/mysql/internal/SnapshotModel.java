package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.Snapshot;
import io.backupkit.mysql.BinlogPosition;
import io.backupkit.spi.RestoreContext;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A MySQL snapshot's metadata, typed: its databases, tables, binary log coordinates. */
public final class SnapshotModel {

    /**
     * A table as the snapshot recorded it.
     *
     * @param info       columns and keys
     * @param rows       rows in the data stream
     * @param stream     the data stream's name
     * @param rowsDigest order-independent digest for tables without a primary key, else null
     */
    public record TableEntry(TableInfo info, long rows, String stream, String rowsDigest) {
    }

    private final Snapshot snapshot;
    private final List<String> databases;
    private final List<TableEntry> tables;

    @SuppressWarnings("unchecked")
    private SnapshotModel(Snapshot snapshot) {
        this.snapshot = snapshot;
        Map<String, Object> m = snapshot.metadata();
        Object format = m.get("format");
        if (!(format instanceof Number n) || n.intValue() != LogicalDump.FORMAT) {
            throw new ConfigurationException("snapshot " + snapshot.shortId() + " has MySQL snapshot format " + format
                    + "; this backupkit reads format " + LogicalDump.FORMAT + " (upgrade backupkit)");
        }
        this.databases = List.copyOf((List<String>) m.getOrDefault("databases", List.of()));
        List<TableEntry> t = new ArrayList<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) m.getOrDefault("tables", List.of())) {
            List<ColumnInfo> cols = new ArrayList<>();
            for (Object c : (List<Object>) e.get("columns")) {
                cols.add(Json.MAPPER.convertValue(c, ColumnInfo.class));
            }
            TableInfo info = new TableInfo((String) e.get("database"), (String) e.get("name"), (String) e.get("engine"),
                    Boolean.TRUE.equals(e.get("transactional")), cols, (List<String>) e.getOrDefault("primaryKey", List.of()), 0);
            t.add(new TableEntry(info, ((Number) e.get("rows")).longValue(), (String) e.get("stream"), (String) e.get("rowsDigest")));
        }
        this.tables = List.copyOf(t);
    }

    /** The model of a snapshot written by the MySQL engine. */
    public static SnapshotModel of(Snapshot snapshot) {
        return new SnapshotModel(snapshot);
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    public List<String> databases() {
        return databases;
    }

    public List<TableEntry> tables() {
        return tables;
    }

    public List<TableEntry> tables(String db) {
        return tables.stream().filter(t -> t.info().database().equals(db)).toList();
    }

    /** "server" (every database) or "database". */
    public String scope() {
        return String.valueOf(snapshot.metadata().getOrDefault("scope", "database"));
    }

    public boolean hasUsers() {
        return Boolean.TRUE.equals(snapshot.metadata().get("users")) && snapshot.stream(StreamNames.USERS).isPresent();
    }

    /** The binary log position of the snapshot's instant, when the server had the binary log on. */
    @SuppressWarnings("unchecked")
    public Optional<BinlogPosition> binlogPosition() {
        Object b = snapshot.metadata().get("binlog");
        if (!(b instanceof Map<?, ?> map) || map.get("file") == null) {
            return Optional.empty();
        }
        return Optional.of(new BinlogPosition((String) map.get("file"), ((Number) map.get("position")).longValue()));
    }

    /** GTID state at the snapshot's instant, or null. */
    public String gtid() {
        Object b = snapshot.metadata().get("binlog");
        return b instanceof Map<?, ?> map && map.get("gtid") != null ? map.get("gtid").toString() : null;
    }

    public String serverId() {
        Object s = snapshot.metadata().get("serverId");
        return s == null ? null : s.toString();
    }

    public String serverUuid() {
        Object s = snapshot.metadata().get("serverUuid");
        return s == null ? null : s.toString();
    }

    /** The schema objects of {@code db}, read from its schema stream. */
    public static List<SchemaObject> readSchema(RestoreContext ctx, String db) {
        return readJsonLines(ctx, StreamNames.schema(db), SchemaObject.class);
    }

    public static List<UserAccounts.Account> readUsers(RestoreContext ctx) {
        return readJsonLines(ctx, StreamNames.USERS, UserAccounts.Account.class);
    }

    private static <T> List<T> readJsonLines(RestoreContext ctx, String stream, Class<T> type) {
        List<T> out = new ArrayList<>();
        try (InputStream in = ctx.openStream(stream);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    out.add(Json.MAPPER.readValue(line, type));
                }
            }
        } catch (IOException e) {
            throw new IntegrityException(stream, "cannot read stream " + stream + " of snapshot " + ctx.snapshot().shortId()
                    + ": " + e.getMessage(), e);
        }
        return out;
    }
}
