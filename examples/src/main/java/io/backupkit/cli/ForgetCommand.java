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
                ArrayNode logs = n.putArray("logs");
                for (ForgetResult.LogsExpired l : r.logs()) {
                    ObjectNode o = logs.addObject();
                    o.put("engine", l.engine());
                    o.put("objectsExpired", l.objects().size());
                    o.put("bytesExpired", l.bytes());
                    ArrayNode objects = o.putArray("objects");
                    l.objects().forEach(objects::add);
                    ArrayNode notes = o.putArray("notes");
                    l.notes().forEach(notes::add);
                }
                n.put("logObjectsExpired", r.logObjectsExpired());
                n.put("logBytesExpired", r.logBytesExpired());
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
            for (ForgetResult.LogsExpired l : r.logs()) {
                printLogs(l, dryRun);
            }
            if (p != null) {
                PruneCommand.print(out(), p);
            }
            out().flush();
        }
        return ExitCodes.OK;
    }

    /** What an engine's log retention expired: the objects (the first and last few of a long list) and its notes. */
    private void printLogs(ForgetResult.LogsExpired l, boolean dryRun) {
        if (l.objects().isEmpty() && l.notes().isEmpty()) {
            return; // no log archive of this engine in the repository: nothing to say
        }
        out().printf("%s logs: %s %d object%s (%s)%s%n", l.engine(), dryRun ? "would expire" : "expired", l.objects().size(),
                l.objects().size() == 1 ? "" : "s", Format.bytes(l.bytes()), l.objects().isEmpty() ? "" : ":");
        int n = l.objects().size();
        for (int i = 0; i < n; i++) {
            if (n > 8 && i == 3) {
                out().printf("  … %d more …%n", n - 6);
                i = n - 4;
                continue;
            }
            out().println("  " + l.objects().get(i));
        }
        l.notes().forEach(note -> out().println("  " + note));
    }

    private static String tags(SnapshotSummary s) {
        return s.tags().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }
}
