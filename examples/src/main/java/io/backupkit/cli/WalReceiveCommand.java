package io.backupkit.cli;

import io.backupkit.Repository;
import io.backupkit.postgres.Lsn;
import io.backupkit.postgres.WalReceiver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Arrays;

/** Streams WAL into the repository in the foreground until SIGTERM or SIGINT. */
@Command(name = "wal-receive", description = {"Stream a PostgreSQL cluster's WAL into the repository over a physical replication slot,"
        + " in the foreground, until SIGTERM or SIGINT (then it stores what it received and exits 0).",
        "Needs wal_level = replica, max_wal_senders >= 2, a role with REPLICATION and a 'host replication' line in pg_hba.conf."},
        footer = {"", "Example:",
                "  PGPASSWORD=… backupkit wal-receive --repo /backups/db --key-file /etc/backupkit/key \\",
                "      --db postgresql://replicator@db.internal/postgres --slot backupkit --create-slot",
                "Set max_slot_wal_keep_size on the server so an outage of the receiver cannot fill its disk."})
final class WalReceiveCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Option(names = "--db", required = true, paramLabel = "URL",
            description = "Any database of the cluster: postgresql://[user@]host[:port]/dbname or jdbc:postgresql://….")
    String url;

    @Option(names = "--slot", required = true, paramLabel = "NAME", description = "The physical replication slot.")
    String slot;

    @Option(names = "--create-slot", description = "Create the slot (reserving WAL at once) if it does not exist.")
    boolean createSlot;

    @Option(names = "--partial-interval", paramLabel = "SECONDS",
            description = "Store the segment being received every SECONDS when it has new WAL (default: 5): the recovery point.")
    Double partialInterval;

    @Option(names = "--new-cluster", description = "Allow recording this cluster when the repository archives another one already.")
    boolean newCluster;

    WalReceiveCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        if (partialInterval != null && partialInterval < 0.1) {
            throw usage("--partial-interval must be at least 0.1 seconds, was " + partialInterval);
        }
        database.refuseEngineOptions(this, "wal-receive");
        char[] password = Secrets.fromFileOrEnv(database.passwordFile, "database password file", terminal,
                DatabaseOptions.ENV_DB_PASSWORD, "PGPASSWORD");
        try (Repository repo = repository.open(terminal, null, false)) {
            WalReceiver.Builder b = WalReceiver.builder().repository(repo).url(url).slot(slot).createSlot(createSlot)
                    .allowNewCluster(newCluster).listener(new WalReceiver.Listener() {
                        @Override
                        public void stored(String walFileName, boolean partial, Lsn storedUpTo) {
                            if (!partial || output.verbose) {
                                terminal.err.println("stored " + walFileName + " (WAL stored up to " + storedUpTo + ")");
                            }
                        }

                        @Override
                        public void timelineChanged(int from, int to, Lsn at) {
                            terminal.err.println("timeline " + from + " -> " + to + " at " + at);
                        }

                        @Override
                        public void failed(Exception error) {
                            terminal.err.println("warning: " + error.getMessage() + " (retrying)");
                        }
                    });
            if (password != null) {
                b.password(password);
                Arrays.fill(password, '\0');
            }
            if (partialInterval != null) {
                b.partialInterval(Duration.ofMillis(Math.round(partialInterval * 1000)));
            }
            WalReceiver receiver = b.build();
            receiver.start();
            WalReceiver.Status st = receiver.status();
            terminal.err.println("streaming WAL of cluster " + Long.toUnsignedString(st.systemId()) + " (timeline " + st.timeline()
                    + ") on slot '" + slot + "' into " + repo.location() + "; stop with SIGTERM or Ctrl-C");
            runUntilTerminated(receiver::stop, "backupkit-wal-receive-stop");
            WalReceiver.Status end = receiver.status();
            if (json()) {
                printJson(Json.walReceiver(end));
            } else {
                out().printf("stopped: WAL stored up to %s on timeline %d (%d segments, %d partial segments, %s received)%n",
                        end.stored(), end.timeline(), end.segmentsStored(), end.partialsStored(), Format.bytes(end.bytesReceived()));
                out().flush();
            }
            return ExitCodes.OK;
        }
    }

}
