package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.mysql.BinlogPosition;
import io.backupkit.mysql.BinlogReceiver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

/** Streams a MySQL/MariaDB server's binary logs into the repository, in the foreground until SIGTERM or SIGINT. */
@Command(name = "binlog-receive", description = {"Stream a MySQL/MariaDB server's binary logs into the repository (the replication "
        + "protocol, through mariadb-binlog or mysqlbinlog), in the foreground until SIGTERM or SIGINT (then it stores what it "
        + "received and exits 0); with --once, until everything the server has written so far is stored.",
        "Needs log_bin on (binlog_format=ROW recommended) and a user with REPLICATION SLAVE and REPLICATION CLIENT "
                + "(MariaDB 10.5+: BINLOG MONITOR)."},
        footer = {"", "Examples:",
                "  BACKUPKIT_DB_PASSWORD=… backupkit binlog-receive --repo /backups/db1 --db mariadb://repl@db1:3306",
                "  backupkit binlog-receive --repo /backups/db1 --db mysql://repl@db1:3306 --once --json",
                "Restore to a point in time with: backupkit restore … --target mariadb://… --to-time TIME"})
final class BinlogReceiveCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Option(names = "--db", required = true, paramLabel = "URL", description = "The server: mysql://user@host[:port] or mariadb://….")
    String url;

    @Option(names = "--source", paramLabel = "NAME",
            description = "Name of this server's binary logs in the repository (default: server-<server_id>, or MySQL's server_uuid).")
    String source;

    @Option(names = "--start-file", paramLabel = "FILE",
            description = "First file to archive when the repository has none of this source yet (default: the server's oldest).")
    String startFile;

    @Option(names = "--partial-interval", paramLabel = "SECONDS",
            description = "Store the file being written every SECONDS when it has new events (default: 10): the recovery point's lag.")
    Double partialInterval;

    @Option(names = "--spool", paramLabel = "DIR", description = "Where the tool writes files before they are stored (default: a temporary directory).")
    Path spool;

    @Option(names = "--tool-directory", paramLabel = "DIR", description = "Directory holding mariadb-binlog or mysqlbinlog (default: PATH).")
    Path toolDirectory;

    @Option(names = "--replica-server-id", paramLabel = "ID", description = "Server id announced to the server (default 4200000000); unique per receiver.")
    Long replicaServerId;

    @Option(names = "--allow-gap", description = "Continue when files were purged from the server before they were archived.")
    boolean allowGap;

    @Option(names = "--once", description = "Store everything the server has written so far, then exit.")
    boolean once;

    BinlogReceiveCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        if (partialInterval != null && partialInterval < 0.1) {
            throw usage("--partial-interval must be at least 0.1 seconds, was " + partialInterval);
        }
        if (!url.toLowerCase(java.util.Locale.ROOT).matches("^(jdbc:)?(mysql|mariadb)://.*")) {
            throw usage("--db must be a MySQL/MariaDB server URL (mysql://user@host:port or mariadb://…), was " + Redact.url(url));
        }
        database.refuseEngineOptions(this, "binlog-receive");
        char[] password = database.password(terminal);
        try (Repository repo = repository.open(terminal, null, false)) {
            BinlogReceiver.Builder b = BinlogReceiver.builder().repository(repo).url(url).source(source).startFile(startFile)
                    .spoolDirectory(spool).toolDirectory(toolDirectory).allowGap(allowGap);
            if (password != null) {
                b.password(password);
                Arrays.fill(password, '\0');
            }
            if (partialInterval != null) {
                b.partialInterval(Duration.ofMillis(Math.round(partialInterval * 1000)));
            }
            if (replicaServerId != null) {
                b.replicaServerId(replicaServerId);
            }
            BinlogReceiver receiver = b.build();
            receiver.start();
            BinlogPosition reached = null;
            if (once) {
                try {
                    reached = receiver.awaitCurrentPosition(Duration.ofHours(24));
                } finally {
                    receiver.close();
                }
            } else {
                terminal.err.println("streaming binary logs of " + Redact.url(url) + " as source " + receiver.source() + " into "
                        + repo.location() + "; stop with SIGTERM or Ctrl-C");
                runUntilTerminated(receiver::close, "backupkit-binlog-receive-stop");
            }
            BinlogReceiver.Status st = receiver.status();
            if (json()) {
                ObjectNode n = Json.object();
                n.put("source", st.source());
                n.put("lastArchived", st.lastArchived());
                n.put("lastEventTime", st.lastEventTime() == null ? null : st.lastEventTime().toString());
                n.put("filesStored", st.filesStored());
                n.put("partialsStored", st.partialsStored());
                if (reached != null) {
                    n.put("archivedUpTo", reached.toString());
                }
                printJson(n);
            } else {
                out().printf("%s: binary logs of source %s stored up to %s (last event %s; %d files, %d pieces of the current file stored)%n",
                        once ? "done" : "stopped", st.source(), reached != null ? reached : st.lastArchived(),
                        st.lastEventTime() == null ? "none" : ListCommand.TIME.format(st.lastEventTime()), st.filesStored(), st.partialsStored());
                out().flush();
            }
            return ExitCodes.OK;
        }
    }

}
