package io.backupkit.cli;

import io.backupkit.postgres.WalTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code restore_command}: fetch one WAL file, with prefetching. */
@Command(name = "wal-fetch", description = {"Fetch one WAL file from the repository (PostgreSQL's restore_command).",
        "Exit 0: found; 1: not archived; above 200 on errors, so PostgreSQL stops recovery instead of ending it early."},
        footer = {"", "postgresql.auto.conf of the restored server:",
                "  restore_command = '/opt/backupkit/backupkit wal-fetch --repo /backups/db --key-file /etc/backupkit/key %%f %%p'",
                "Exit codes: 0 found, 1 not archived, 201 failed (repository unreachable), 202 usage or configuration,",
                "203 damaged data or wrong key."})
final class WalFetchCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Parameters(index = "0", paramLabel = "NAME", description = "The WAL file name (%%f).")
    String name;

    @Parameters(index = "1", paramLabel = "DEST", description = "Where to write it (%%p).")
    String dest;

    @Option(names = "--prefetch", paramLabel = "N", description = "Segments to fetch ahead in the background (default: 8; 0: none).")
    Integer prefetch;

    @Option(names = "--spool", paramLabel = "DIR", description = "Prefetch spool (default: <pgdata>/pg_wal/.backupkit-prefetch).")
    Path spool;

    @Option(names = "--pgdata", paramLabel = "DIR", description = "The restored server's data directory (default: the working directory).")
    Path pgdata;

    @Option(names = "--system-id", paramLabel = "ID", description = "The cluster whose WAL to fetch (default: the data directory's"
            + " pg_control, or the only cluster in the repository).")
    String systemId;

    /** Set by the launcher (examples/src/main/launcher/backupkit): the exit code to use for "not archived". */
    static final String NOT_ARCHIVED_EXIT_ENV = "BACKUPKIT_NOT_ARCHIVED_EXIT";

    WalFetchCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        List<String> args = new ArrayList<>(List.of("fetch"));
        repositoryArgs(repository, terminal, args);
        option(args, "--prefetch", prefetch);
        option(args, "--spool", spool);
        option(args, "--pgdata", pgdata);
        option(args, "--system-id", systemId);
        args.add(name);
        args.add(dest);
        int code = WalTool.run(args.toArray(String[]::new), terminal.env, terminal.err, Path.of("").toAbsolutePath());
        if (json()) {
            printJson(Json.walCommand("wal-fetch", name, code, code == 0 ? "found" : code == 1 ? "not-found" : "failed"));
        }
        // the launcher asks for "not archived" under a code no JVM failure has, and turns it back into 1
        String notArchived = terminal.env(NOT_ARCHIVED_EXIT_ENV);
        if (code == 1 && notArchived != null && notArchived.matches("1[0-9][0-9]")) {
            return Integer.parseInt(notArchived);
        }
        return code;
    }

    static void option(List<String> args, String name, Object value) {
        if (value != null) {
            args.add(name);
            args.add(value.toString());
        }
    }

    /** The repository options as WalTool takes them; the password stays in the environment or its file. */
    static void repositoryArgs(RepositoryOptions repository, Terminal terminal, List<String> args) {
        String location = repository.repo != null ? repository.repo : terminal.env(RepositoryOptions.ENV_REPO);
        option(args, "--repo", location);
        option(args, "--key-file", repository.keyFile);
        option(args, "--password-file", repository.passwordFile);
    }
}
