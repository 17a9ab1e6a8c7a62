package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.CheckReport;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RepositoryChecker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "check", description = "Check the repository: every snapshot readable, every blob it needs indexed in a pack that "
        + "exists; with --read-data also read every pack and check every blob.",
        footer = {"", "Exit code 3 when anything is damaged.", "", "Examples:", "  backupkit check --repo /var/backups/shop",
                "  backupkit check --repo /var/backups/shop --read-data", "  backupkit check --repo s3://bucket/shop --read-data-subset 10%%"})
final class CheckCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--read-data", description = "Read every pack: every blob authenticated, decompressed and hashed against its id.")
    boolean readData;

    @Option(names = "--read-data-subset", paramLabel = "N%", description = "Read a random N%% of the packs (e.g. 10%%).")
    String subset;

    CheckCommand(Terminal terminal) {
        super(terminal);
    }

    static double percent(String text) {
        String t = text.trim();
        if (t.endsWith("%")) {
            t = t.substring(0, t.length() - 1).trim();
        }
        double p;
        try {
            p = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("--read-data-subset takes a percentage like 10%, was '" + text + "'");
        }
        if (!(p > 0 && p <= 100)) {
            throw new ConfigurationException("--read-data-subset must be more than 0% and at most 100%, was " + text);
        }
        return p / 100;
    }

    @Override
    int run() {
        if (readData && subset != null) {
            throw usage("give --read-data or --read-data-subset, not both");
        }
        RepositoryChecker.Builder b;
        CheckReport r;
        try (Repository repo = repository.open(terminal, null, !json())) {
            b = RepositoryChecker.builder().repository(repo);
            if (readData) {
                b.readData(true);
            } else if (subset != null) {
                b.readDataSubset(percent(subset));
            }
            if (!json()) {
                b.progress(line -> {
                    terminal.err.println("check: " + line);
                    terminal.err.flush();
                });
            }
            r = b.build().check();
        }
        if (json()) {
            ObjectNode n = Json.object();
            n.put("ok", r.ok());
            n.put("snapshots", r.snapshots());
            n.put("packs", r.packs());
            n.put("blobs", r.blobs());
            n.put("packsRead", r.packsRead());
            n.put("bytesRead", r.bytesRead());
            ArrayNode errors = n.putArray("errors");
            r.errors().forEach(errors::add);
            ArrayNode warnings = n.putArray("warnings");
            r.warnings().forEach(warnings::add);
            printJson(n);
        } else {
            out().printf("%d snapshots, %d packs, %d blobs checked%s%n", r.snapshots(), r.packs(), r.blobs(),
                    r.packsRead() > 0 ? "; read " + r.packsRead() + " packs (" + Format.bytes(r.bytesRead()) + "), every blob checked" : "");
            r.warnings().forEach(w -> out().println("warning: " + w));
            r.errors().forEach(e -> out().println("error: " + e));
            out().println(r.ok() ? "no errors were found" : r.errors().size() + " error(s): the repository is damaged");
            out().flush();
        }
        return r.ok() ? ExitCodes.OK : ExitCodes.INTEGRITY;
    }
}
