package io.backupkit.cli;

import io.backupkit.PruneResult;
import io.backupkit.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

@Command(name = "prune", description = "Delete data no snapshot uses, safely while backups run: unused packs are deleted, packs more "
        + "than --repack-threshold unused are rewritten, small index objects merged.",
        footer = {"", "Packs a running backup or restore might still read are marked and deleted by a later prune (reported as pending).",
                "A prune that cannot run safely (another prune, a clock too far off) says why, exits 1 and deletes nothing.", "",
                "Examples:", "  backupkit prune --repo /var/backups/shop --dry-run", "  backupkit prune --repo s3://bucket/shop --json"})
final class PruneCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    PruneOptions pruneOptions;

    @Option(names = "--dry-run", description = "Show what would be deleted and freed; change nothing.")
    boolean dryRun;

    PruneCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        try (Repository repo = repository.open(terminal, null, !json())) {
            PruneResult r = pruneOptions.builder(repo, dryRun, terminal, json()).build().prune();
            if (json()) {
                printJson(Json.prune(r));
            } else {
                print(out(), r);
                out().flush();
            }
        }
        return ExitCodes.OK;
    }

    static void print(PrintWriter out, PruneResult r) {
        String verb = r.dryRun() ? "would delete" : "deleted";
        out.printf("%s %d packs (%s)%n", verb, r.packsDeleted(), Format.bytes(r.bytesDeleted()));
        if (r.packsRepacked() > 0) {
            out.printf("%s %d packs into %d new ones (%s)%n", r.dryRun() ? "would repack" : "repacked", r.packsRepacked(), r.packsWritten(),
                    Format.bytes(r.bytesWritten()));
        }
        if (r.packsResurrected() > 0) {
            out.printf("kept %d packs marked before: a new snapshot needs them%n", r.packsResurrected());
        }
        if (r.packsPending() > 0) {
            out.printf("%d packs (%s) wait for operations that started before they were marked: %s; the next prune deletes them%n",
                    r.packsPending(), Format.bytes(r.bytesPending()), String.join(", ", r.pendingBecause()));
        }
        if (r.indexObjectsWritten() + r.indexObjectsDeleted() > 0) {
            out.printf("index: %d objects written, %d merged or superseded ones deleted%n", r.indexObjectsWritten(),
                    r.indexObjectsDeleted());
        }
        out.printf("%s %s (%d snapshots kept, %s unused left in packs below the threshold) in %s%n",
                r.dryRun() ? "would free" : "freed", Format.bytes(r.bytesFreed()), r.snapshots(), Format.bytes(r.bytesUnused()),
                Format.duration(r.duration()));
    }
}
