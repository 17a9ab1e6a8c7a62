package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.SnapshotStats;
import io.backupkit.Statistics;
import io.backupkit.StatsReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "stats", description = "Sizes: raw, deduplicated and stored bytes of the repository, and per snapshot what it holds "
        + "and what forgetting it would free.",
        footer = {"", "Examples:", "  backupkit stats --repo /var/backups/shop", "  backupkit stats --repo /var/backups/shop latest --json"})
final class StatsCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SNAPSHOT", description = "Only this snapshot (id, prefix or latest).")
    String snapshot;

    StatsCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        StatsReport s;
        try (Repository repo = repository.open(terminal, null, !json())) {
            s = Statistics.builder().repository(repo).snapshot(snapshot).build().compute();
        }
        if (json()) {
            ObjectNode n = Json.object();
            n.put("snapshotCount", s.snapshotCount());
            n.put("rawBytes", s.rawBytes());
            n.put("uniqueRawBytes", s.uniqueRawBytes());
            n.put("deduplicatedBytes", s.deduplicatedBytes());
            n.put("storedBytes", s.storedBytes());
            n.put("unusedBytes", s.unusedBytes());
            n.put("packs", s.packs());
            n.put("blobs", s.blobs());
            Json.putRatio(n, "dedupRatio", s.dedupRatio());
            Json.putRatio(n, "compressionRatio", s.compressionRatio());
            ArrayNode arr = n.putArray("snapshots");
            for (SnapshotStats x : s.snapshots()) {
                ObjectNode o = arr.addObject();
                o.put("id", x.id());
                o.put("shortId", x.shortId());
                o.put("time", x.time().toString());
                o.put("rawBytes", x.rawBytes());
                o.put("blobs", x.blobs());
                o.put("uniqueBlobs", x.uniqueBlobs());
                o.put("storedBytes", x.storedBytes());
                o.put("exclusiveBytes", x.exclusiveBytes());
            }
            printJson(n);
            return ExitCodes.OK;
        }
        TextTable t = new TextTable("ID", "TIME", ">RAW", ">BLOBS", ">STORED", ">ONLY HERE");
        for (SnapshotStats x : s.snapshots()) {
            t.row(x.shortId(), ListCommand.TIME.format(x.time()), Format.bytes(x.rawBytes()), x.uniqueBlobs(), Format.bytes(x.storedBytes()),
                    Format.bytes(x.exclusiveBytes()));
        }
        if (!s.snapshots().isEmpty()) {
            t.print(out(), "");
            out().println();
        }
        out().printf("snapshots           %d%n", s.snapshotCount());
        out().printf("raw                 %s (all snapshots, as restores would write them)%n", Format.bytes(s.rawBytes()));
        out().printf("deduplicated        %s (%s less by deduplication)%n", Format.bytes(s.uniqueRawBytes()), Format.ratio(s.dedupRatio()));
        out().printf("compressed          %s (%s less by compression)%n", Format.bytes(s.deduplicatedBytes()), Format.ratio(s.compressionRatio()));
        out().printf("stored              %s in %d packs, %d blobs (with indexes and manifests)%n", Format.bytes(s.storedBytes()), s.packs(),
                s.blobs());
        out().printf("unused              %s (prune frees what no snapshot needs)%n", Format.bytes(s.unusedBytes()));
        out().flush();
        return ExitCodes.OK;
    }
}
