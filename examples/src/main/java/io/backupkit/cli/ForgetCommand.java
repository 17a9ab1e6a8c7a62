package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.ForgetManager;
import io.backupkit.ForgetResult;
import io.backupkit.PruneManager;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPlan;
import io.backupkit.RetentionPolicy;
import io.backupkit.SnapshotSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.stream.Collectors;

@Command(name = "forget", description = "Remove the snapshots a retention policy does not keep (restic's rules: newest per period, "
        + "empty periods do not count); with --prune also delete the data only they used.",
        footer = {"", "A policy that would remove every snapshot of a group is refused unless --force.", "", "Examples:",
                "  backupkit forget --repo /var/backups/shop --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune",
                "  backupkit forget --repo /var/backups/shop --keep-last 2 --dry-run",
                "  backupkit forget --repo /var/backups/shop --keep-within 30d --keep-tag release=yes --zone Europe/Berlin --json"})
final class ForgetCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    KeepOptions keep;

    @Mixin
    PruneOptions pruneOptions;

    @Option(names = "--prune", description = "Then prune: delete the data no remaining snapshot uses.")
    boolean prune;

    @Option(names = "--dry-run", description = "Show what would be removed (and with --prune freed); change nothing.")
    boolean dryRun;

    @Option(names = "--force", description = "Allow the policy to remove every snapshot of a group.")
    boolean force;

    ForgetCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        RetentionPolicy policy = keep.policy();
        try (Repository repo = repository.open(terminal, null, !json())) {
            ForgetResult r = ForgetManager.builder().repository(repo).policy(policy).dryRun(dryRun).allowRemoveAll(force).build().forget();
            PruneResult p = null;
            if (prune) {
                PruneManager.Builder pb = pruneOptions.builder(repo, dryRun, terminal, json());
                if (dryRun) {
                    pb.assumeForgotten(r.removed().stream().map(SnapshotSummary::id).toList());
                }
                p = pb.build().prune();
            }
            if (json()) {
                ObjectNode n = Json.object();
                n.put("dryRun", dryRun);
                n.put("policy", policy.describe());
                ArrayNode groups = n.putArray("groups");
                for (RetentionPlan.Group g : r.plan().groups()) {
                    ObjectNode o = groups.addObject();
                    ObjectNode key = o.putObject("key");
                    g.key().forEach(key::put);
                    ArrayNode kept = o.putArray("keep");
                    for (RetentionPlan.Kept k : g.keep()) {
                        ObjectNode s = Json.summary(k.snapshot());
                        ArrayNode reasons = s.putArray("reasons");
                        k.reasons().forEach(reasons::add);
                        kept.add(s);
                    }
                    ArrayNode removed = o.putArray("remove");
                    g.remove().forEach(s -> removed.add(Json.summary(s)));
                }
                ArrayNode removed = n.putArray("removed");
                r.removed().forEach(s -> removed.add(s.id()));
                n.put("snapshotsRemoved", r.removed().size());
                if (p != null) {
                    ObjectNode pj = Json.prune(p);
                    pj.put("snapshotsRemoved", r.removed().size());
                    n.set("prune", pj);
                }
                printJson(n);
                return ExitCodes.OK;
            }
            out().println("policy: " + policy.describe());
            for (RetentionPlan.Group g : r.plan().groups()) {
                out().println();
                out().println("group " + g.key().entrySet().stream().map(e -> e.getKey() + "=" + Redact.url(e.getValue()))
                        .collect(Collectors.joining(", ")));
                out().printf("keep %d snapshot%s:%n", g.keep().size(), g.keep().size() == 1 ? "" : "s");
                TextTable t = new TextTable("ID", "TIME", "TAGS", "REASONS");
                for (RetentionPlan.Kept k : g.keep()) {
                    t.row(k.snapshot().shortId(), ListCommand.TIME.format(k.snapshot().time()), tags(k.snapshot()),
                            String.join(", ", k.reasons()));
                }
                t.print(out(), "  ");
                if (!g.remove().isEmpty()) {
                    out().printf("%s %d snapshot%s:%n", dryRun ? "would remove" : "remove", g.remove().size(), g.remove().size() == 1 ? "" : "s");
                    TextTable rm = new TextTable("ID", "TIME", "TAGS");
                    g.remove().forEach(s -> rm.row(s.shortId(), ListCommand.TIME.format(s.time()), tags(s)));
                    rm.print(out(), "  ");
                }
            }
            out().println();
            out().printf("%s %d of %d snapshots%n", dryRun ? "would remove" : "removed", r.removed().size(),
                    r.plan().toKeep().size() + r.removed().size());
            if (p != null) {
                PruneCommand.print(out(), p);
            }
            out().flush();
        }
        return ExitCodes.OK;
    }

    private static String tags(SnapshotSummary s) {
        return s.tags().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }
}
