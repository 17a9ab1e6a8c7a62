package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.LockSummary;
import io.backupkit.Repository;
import io.backupkit.UnlockResult;
import io.backupkit.Unlocker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "unlock", description = "Remove stale locks: not refreshed for 30 minutes, or held by a process on this host that is gone.",
        footer = {"", "--force removes every lock, also of running processes: a running backup then stops without committing,",
                "a running prune before its next delete. It says which locks it removes.", "", "Examples:",
                "  backupkit unlock --repo /var/backups/shop", "  backupkit unlock --repo /var/backups/shop --force"})
final class UnlockCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--force", description = "Remove every lock, also those of running processes.")
    boolean force;

    UnlockCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        UnlockResult r;
        try (Repository repo = repository.open(terminal, null, !json())) {
            r = Unlocker.builder().repository(repo).force(force).build().unlock();
        }
        if (json()) {
            ObjectNode n = Json.object();
            n.put("forced", r.forced());
            ArrayNode removed = n.putArray("removed");
            r.removed().forEach(l -> removed.add(Json.lock(l)));
            ArrayNode kept = n.putArray("kept");
            r.kept().forEach(l -> kept.add(Json.lock(l)));
            printJson(n);
            return ExitCodes.OK;
        }
        for (LockSummary l : r.removed()) {
            out().printf("removed %s %s lock of %s: %s%n", l.stale() ? "stale" : "LIVE", l.kind(), l.holder(),
                    l.stale() ? l.why() : l.why() + "; that process stops before its next write");
        }
        for (LockSummary l : r.kept()) {
            out().printf("kept %s lock of %s: %s (use --force to remove it)%n", l.kind(), l.holder(), l.why());
        }
        if (r.removed().isEmpty() && r.kept().isEmpty()) {
            out().println("no locks");
        }
        out().flush();
        return ExitCodes.OK;
    }
}
