package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.postgres.PhysicalSnapshots;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.stream.Collectors;

@Command(name = "list", description = "List the snapshots in the repository, oldest first.",
        footer = {"", "Examples:", "  backupkit list --repo /var/backups/shop",
                "  backupkit list --repo /var/backups/shop --json | jq -r '.snapshots[-1].id'"})
final class ListCommand extends CliCommand {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    @Mixin
    RepositoryOptions repository;

    ListCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        try (Repository repo = repository.open(terminal, null, !json())) {
            List<Snapshot> snapshots = repo.snapshots().list();
            List<PhysicalSnapshots.Window> windows = PhysicalSnapshots.windows(repo, snapshots);
            if (json()) {
                ObjectNode n = Json.object();
                n.put("repository", repo.location());
                ArrayNode arr = n.putArray("snapshots");
                snapshots.forEach(s -> arr.add(Json.snapshotSummary(s)));
                n.set("windows", Json.windows(windows));
                printJson(n);
                return ExitCodes.OK;
            }
            if (snapshots.isEmpty()) {
                out().println("no snapshots in " + repo.location());
                out().flush();
                return ExitCodes.OK;
            }
            TextTable t = new TextTable("ID", "TIME", "HOST", "SOURCE", ">SIZE", ">STORED", "TAGS");
            for (Snapshot s : snapshots) {
                t.row(s.shortId(), TIME.format(s.time()), s.hostname(), Redact.url(s.source()), Format.bytes(s.bytesRead()),
                        Format.bytes(s.bytesStored()), s.tags().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
            }
            t.print(out(), "");
            out().printf("%d snapshot%s%n", snapshots.size(), snapshots.size() == 1 ? "" : "s");
            printPhysical(snapshots, windows);
            out().flush();
        }
        return ExitCodes.OK;
    }

    /** Base backups with their WAL positions, then the recoverable window of each timeline. */
    private void printPhysical(List<Snapshot> snapshots, List<PhysicalSnapshots.Window> windows) {
        TextTable base = new TextTable("BASE BACKUP", "CLUSTER", ">TIMELINE", "START LSN", "STOP LSN", "ENDED");
        int n = 0;
        for (Snapshot s : snapshots) {
            var info = PhysicalSnapshots.info(s);
            if (info.isPresent()) {
                var p = info.get();
                base.row(s.shortId(), p.systemId(), p.timeline(), p.startLsn(), p.stopLsn(), TIME.format(p.stopTime()));
                n++;
            }
        }
        if (n == 0) {
            return;
        }
        out().println();
        base.print(out(), "");
        printWindows(out(), windows);
    }

    static void printWindows(java.io.PrintWriter out, List<PhysicalSnapshots.Window> windows) {
        if (windows.isEmpty()) {
            return;
        }
        out.println();
        TextTable w = new TextTable("RECOVERABLE", ">TIMELINE", "VIA", "FROM (BASE BACKUP END)", "TO (LAST ARCHIVED COMMIT)", "WAL");
        for (PhysicalSnapshots.Window x : windows) {
            w.row("cluster " + x.systemId(), x.timeline(), x.path(), TIME.format(x.fromTime()) + " " + x.baseSnapshot(),
                    x.toTime() == null ? "no commit archived yet" : TIME.format(x.toTime()),
                    x.fromLsn() + " .. " + x.toLsn() + (x.gap() == null ? "" : ", missing " + x.gap()));
        }
        w.print(out, "");
    }
}
