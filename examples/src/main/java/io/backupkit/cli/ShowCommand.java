package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.postgres.PhysicalSnapshots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Map;

@Command(name = "show", description = "Show one snapshot: source, tags, streams with checksums, tables.",
        footer = {"", "Examples:", "  backupkit show --repo /var/backups/shop latest",
                "  backupkit show --repo /var/backups/shop 1a2b3c4d --json"})
final class ShowCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SNAPSHOT", defaultValue = "latest",
            description = "Snapshot id, unique id prefix, or latest (default).")
    String snapshot = "latest";

    ShowCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        try (Repository repo = repository.open(terminal, null, !json())) {
            Snapshot s = repo.snapshots().get(snapshot);
            boolean physical = PhysicalSnapshots.info(s).isPresent();
            List<PhysicalSnapshots.Window> windows = physical ? PhysicalSnapshots.windows(repo, s) : List.of();
            if (json()) {
                ObjectNode n = Json.object();
                n.set("snapshot", Json.snapshotDetail(s));
                if (physical) {
                    n.set("windows", Json.windows(windows));
                }
                printJson(n);
                return ExitCodes.OK;
            }
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("time", ListCommand.TIME.format(s.time()));
            fields.put("host", s.hostname());
            fields.put("engine", s.engine());
            fields.put("source", Redact.url(s.source()));
            if (!s.tags().isEmpty()) {
                fields.put("tags", new TreeMap<>(s.tags()).toString());
            }
            fields.put("size", Format.bytes(s.bytesRead()) + " read, " + Format.bytes(s.bytesStored()) + " stored new, in "
                    + Format.millis(s.durationMillis()));
            for (Map.Entry<String, Object> e : s.metadata().entrySet()) {
                if (!(e.getValue() instanceof Map) && !(e.getValue() instanceof List) && !e.getKey().equals("backupLabel")) {
                    fields.put(e.getKey(), String.valueOf(e.getValue()));
                }
            }
            int width = fields.keySet().stream().mapToInt(String::length).max().orElse(4);
            out().printf("snapshot %s%n", s.id());
            fields.forEach((k, v) -> out().printf("  %-" + width + "s  %s%n", k, v));
            out().println();
            // the column is labelled by the kind of digest, so nobody compares a digest over chunks with sha256sum
            Set<String> kinds = new TreeSet<>();
            s.streams().forEach(st -> kinds.add(st.digest()));
            boolean mixed = kinds.size() > 1;
            String kind = kinds.isEmpty() ? SnapshotStream.SHA256 : kinds.iterator().next();
            TextTable streams = new TextTable("STREAM", ">SIZE", ">BLOBS", mixed ? "DIGEST" : columnOf(kind));
            for (SnapshotStream st : s.streams()) {
                streams.row(st.name(), Format.bytes(st.size()), st.blobCount(), mixed ? st.digest() + ":" + st.sha256() : st.sha256());
            }
            streams.print(out(), "  ");
            if (kinds.contains(SnapshotStream.SHA256_CHUNKS)) {
                out().println("  " + (mixed ? SnapshotStream.SHA256_CHUNKS : "SHA-256 (chunks)")
                        + " = SHA-256 over the chunks' SHA-256 digests (format 2), not sha256sum of the stream");
            }
            if (physical) {
                Object ts = s.metadata().get("tablespaces");
                if (ts instanceof List<?> l && !l.isEmpty()) {
                    out().println();
                    TextTable t = new TextTable("TABLESPACE", ">OID", "LOCATION");
                    for (Object o : l) {
                        Map<?, ?> m = (Map<?, ?>) o;
                        t.row(m.get("name"), m.get("oid"), m.get("location"));
                    }
                    t.print(out(), "  ");
                }
                ListCommand.printWindows(out(), windows);
            }
            List<?> tables = Json.tables(s);
            if (!tables.isEmpty()) {
                out().println();
                TextTable t = new TextTable("TABLE", ">ROWS", ">SIZE");
                for (Object o : tables) {
                    if (o instanceof Map<?, ?> m) {
                        Object name = m.containsKey("name") ? m.get("name") : m.get("table");
                        Object schema = m.containsKey("schema") ? m.get("schema") : m.get("database");
                        Object rows = m.containsKey("rows") ? m.get("rows") : m.get("rowCount");
                        Object size = m.containsKey("bytes") ? m.get("bytes") : m.get("size");
                        String qualified = schema != null && name != null && !name.toString().contains(".") ? schema + "." + name : String.valueOf(name);
                        t.row(qualified, rows instanceof Number n ? String.format(java.util.Locale.ROOT, "%,d", n.longValue()) : rows == null ? "" : rows, size instanceof Number n ? Format.bytes(n.longValue()) : size == null ? "" : size);
                    } else {
                        t.row(String.valueOf(o), "", "");
                    }
                }
                t.print(out(), "  ");
            }
            out().flush();
        }
        return ExitCodes.OK;
    }

    /** Header of the digest column when every stream's digest is of one {@code kind}. */
    static String columnOf(String kind) {
        return SnapshotStream.SHA256_CHUNKS.equals(kind) ? "SHA-256 (chunks)" : "SHA-256";
    }
}
