package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.SnapshotDiff;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.Locale;

@Command(name = "diff", description = "What changed between two snapshots: streams and tables added, removed and changed, with bytes.",
        footer = {"", "Examples:", "  backupkit diff --repo /var/backups/shop 1a2b3c4d latest",
                "  backupkit diff --repo /var/backups/shop 1a2b3c4d 5e6f7a8b --json"})
final class DiffCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Parameters(index = "0", paramLabel = "A", description = "The older snapshot (id, prefix or latest).")
    String a;

    @Parameters(index = "1", paramLabel = "B", description = "The newer snapshot (id, prefix or latest).")
    String b;

    DiffCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        SnapshotDiff d;
        try (Repository repo = repository.open(terminal, null, !json())) {
            d = SnapshotDiff.between(repo, a, b);
        }
        if (json()) {
            ObjectNode n = Json.object();
            n.put("from", d.from());
            n.put("to", d.to());
            n.put("bytesAdded", d.bytesAdded());
            n.put("bytesRemoved", d.bytesRemoved());
            ArrayNode streams = n.putArray("streams");
            for (SnapshotDiff.StreamDiff s : d.streams()) {
                ObjectNode o = streams.addObject();
                o.put("name", s.name());
                o.put("change", s.change().name().toLowerCase(Locale.ROOT));
                o.put("sizeFrom", s.sizeFrom());
                o.put("sizeTo", s.sizeTo());
                o.put("bytesAdded", s.bytesAdded());
                o.put("bytesRemoved", s.bytesRemoved());
            }
            ArrayNode tables = n.putArray("tables");
            for (SnapshotDiff.TableDiff t : d.tables()) {
                ObjectNode o = tables.addObject();
                o.put("name", t.name());
                o.put("change", t.change().name().toLowerCase(Locale.ROOT));
                o.put("rowsFrom", t.rowsFrom());
                o.put("rowsTo", t.rowsTo());
            }
            printJson(n);
            return ExitCodes.OK;
        }
        out().printf("from %s to %s%n", d.from().substring(0, 8), d.to().substring(0, 8));
        TextTable t = new TextTable("", "STREAM", ">SIZE A", ">SIZE B", ">ADDED", ">REMOVED");
        long unchanged = 0;
        for (SnapshotDiff.StreamDiff s : d.streams()) {
            if (s.change() == SnapshotDiff.Change.UNCHANGED) {
                unchanged++;
                continue;
            }
            t.row(mark(s.change()), s.name(), Format.bytes(s.sizeFrom()), Format.bytes(s.sizeTo()), Format.bytes(s.bytesAdded()),
                    Format.bytes(s.bytesRemoved()));
        }
        t.print(out(), "");
        out().printf("%d streams unchanged%n", unchanged);
        long tablesChanged = d.tables().stream().filter(x -> x.change() != SnapshotDiff.Change.UNCHANGED).count();
        if (tablesChanged > 0) {
            out().println();
            TextTable tt = new TextTable("", "TABLE", ">ROWS A", ">ROWS B");
            d.tables().stream().filter(x -> x.change() != SnapshotDiff.Change.UNCHANGED)
                    .forEach(x -> tt.row(mark(x.change()), x.name(), x.rowsFrom() < 0 ? "" : x.rowsFrom(), x.rowsTo() < 0 ? "" : x.rowsTo()));
            tt.print(out(), "");
        }
        out().printf("%s added, %s removed%n", Format.bytes(d.bytesAdded()), Format.bytes(d.bytesRemoved()));
        out().flush();
        return ExitCodes.OK;
    }

    private static String mark(SnapshotDiff.Change c) {
        return switch (c) {
            case ADDED -> "+";
            case REMOVED -> "-";
            case CHANGED -> "M";
            case UNCHANGED -> "";
        };
    }
}
