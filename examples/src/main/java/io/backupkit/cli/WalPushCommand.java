package io.backupkit.cli;

import io.backupkit.postgres.WalTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code archive_command}: archive one WAL file, synchronously or through the asynchronous pusher. */
@Command(name = "wal-push", description = {"Archive one WAL file into the repository (PostgreSQL's archive_command).",
        "Returns 0 only once the file is durable; safe to repeat (same content: 0; different content: exit 3)."},
        footer = {"", "postgresql.conf:",
                "  archive_mode = on",
                "  archive_command = 'java -jar /opt/backupkit.jar wal-push --repo /backups/db --key-file /etc/backupkit/key %%p'",
                "  archive_command = '… wal-push --async --repo /backups/db --key-file /etc/backupkit/key %%p'   (busy servers)",
                "Exit codes: 0 archived, 1 failed (PostgreSQL retries), 2 configuration (e.g. another cluster's segment),",
                "3 a different file of that name is archived."})
final class WalPushCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Parameters(index = "0", paramLabel = "PATH", description = "The WAL file (%%p), relative to the data directory or absolute.")
    String path;

    @Option(names = "--async", description = "Hand the file to a background pusher that archives ready segments in parallel,"
            + " ahead of PostgreSQL; return once the spool says this one is durable.")
    boolean async;

    @Option(names = "--spool", paramLabel = "DIR", description = "Spool of the asynchronous pusher (default: <pgdata>/pg_wal/.backupkit-spool).")
    Path spool;

    @Option(names = "--pgdata", paramLabel = "DIR", description = "The server's data directory (default: the one PATH is in, or the working directory).")
    Path pgdata;

    @Option(names = "--system-id", paramLabel = "ID", description = "Refuse WAL of any cluster but this system identifier.")
    String systemId;

    @Option(names = "--new-cluster", description = "Allow recording a cluster when the repository archives another one already"
            + " (after a new initdb or pg_upgrade).")
    boolean newCluster;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "--async: how long to wait for the pusher (default: 60).")
    Integer timeout;

    @Option(names = "--parallel", paramLabel = "N", description = "--async: segments the pusher archives at once (default: 4).")
    Integer parallel;

    @Option(names = "--no-mark-done", description = "--async: leave .ready files for PostgreSQL instead of renaming them to .done"
            + " once archived.")
    boolean noMarkDone;

    WalPushCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        List<String> args = new ArrayList<>(List.of("push"));
        WalFetchCommand.repositoryArgs(repository, terminal, args);
        if (async) {
            args.add("--async");
        }
        WalFetchCommand.option(args, "--spool", spool);
        WalFetchCommand.option(args, "--pgdata", pgdata);
        WalFetchCommand.option(args, "--system-id", systemId);
        WalFetchCommand.option(args, "--timeout", timeout);
        WalFetchCommand.option(args, "--parallel", parallel);
        if (newCluster) {
            args.add("--new-cluster");
        }
        if (noMarkDone) {
            args.add("--no-mark-done");
        }
        args.add(path);
        int code = WalTool.run(args.toArray(String[]::new), terminal.env, terminal.err, Path.of("").toAbsolutePath());
        if (json()) {
            printJson(Json.walCommand("wal-push", path, code, code == 0 ? "archived" : "failed"));
        }
        return code;
    }
}
