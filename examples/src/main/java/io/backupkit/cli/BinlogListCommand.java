package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.mysql.BinlogArchive;
import io.backupkit.mysql.BinlogFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;

/** Lists the archived binary logs. */
@Command(name = "binlog-list", description = "List the MySQL/MariaDB binary logs archived in the repository, per source, with their event times.",
        footer = {"", "Examples:", "  backupkit binlog-list --repo /backups/db1", "  backupkit binlog-list --repo /backups/db1 --source server-1 --json"})
final class BinlogListCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--source", paramLabel = "NAME", description = "Only this source (default: every source).")
    String source;

    BinlogListCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        try (Repository repo = repository.open(terminal, null, !json())) {
            BinlogArchive archive = BinlogArchive.of(repo);
            List<String> sources = source != null ? List.of(source) : archive.sources();
            ObjectNode root = Json.object();
            ArrayNode arr = root.putArray("sources");
            for (String s : sources) {
                List<BinlogFile> files = archive.files(s);
                if (json()) {
                    ObjectNode n = arr.addObject();
                    n.put("source", s);
                    ArrayNode fa = n.putArray("files");
                    for (BinlogFile f : files) {
                        ObjectNode fn = fa.addObject();
                        fn.put("name", f.name());
                        fn.put("complete", f.complete());
                        fn.put("bytes", f.length());
                        fn.put("firstEventTime", f.firstEventTime() == null ? null : f.firstEventTime().toString());
                        fn.put("lastEventTime", f.lastEventTime() == null ? null : f.lastEventTime().toString());
                        fn.put("archivedAt", f.archivedAt() == null ? null : f.archivedAt().toString());
                    }
                    continue;
                }
                out().printf("source %s: %d file%s%n", s, files.size(), files.size() == 1 ? "" : "s");
                TextTable t = new TextTable("FILE", "STATE", ">SIZE", "FIRST EVENT", "LAST EVENT");
                long expected = files.isEmpty() ? 0 : files.get(0).sequence();
                for (BinlogFile f : files) {
                    if (f.sequence() != expected) {
                        t.row("(missing " + (f.sequence() - expected) + ")", "GAP", "", "", "");
                    }
                    t.row(f.name(), f.complete() ? "complete" : "partial", Format.bytes(f.length()),
                            f.firstEventTime() == null ? "" : ListCommand.TIME.format(f.firstEventTime()),
                            f.lastEventTime() == null ? "" : ListCommand.TIME.format(f.lastEventTime()));
                    expected = f.sequence() + 1;
                }
                t.print(out(), "  ");
            }
            if (json()) {
                printJson(root);
            } else if (sources.isEmpty()) {
                out().println("no binary logs in " + repo.location());
            }
            out().flush();
        }
        return ExitCodes.OK;
    }
}
