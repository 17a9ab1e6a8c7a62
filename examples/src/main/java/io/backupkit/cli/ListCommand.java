package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
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
        try (Repository repo = repository.open(terminal, null)) {
            List<Snapshot> snapshots = repo.snapshots().list();
            if (json()) {
                ObjectNode n = Json.object();
                n.put("repository", repo.location());
                ArrayNode arr = n.putArray("snapshots");
                snapshots.forEach(s -> arr.add(Json.snapshotSummary(s)));
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
            out().flush();
        }
        return ExitCodes.OK;
    }
}
