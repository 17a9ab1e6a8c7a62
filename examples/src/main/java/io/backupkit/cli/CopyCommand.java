package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.ConfigurationException;
import io.backupkit.CopyResult;
import io.backupkit.Repository;
import io.backupkit.SnapshotCopier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

@Command(name = "copy", description = "Copy snapshots to another repository (e.g. local to S3), uploading only blobs the destination "
        + "lacks; snapshots copied before are skipped.",
        footer = {"", "The destination's password: $BACKUPKIT_TO_PASSWORD or --to-password-file; or --to-key-file.", "", "Examples:",
                "  backupkit copy --repo /var/backups/shop --to s3://bucket/shop?region=eu-west-1",
                "  backupkit copy --repo /var/backups/shop --to /mnt/offsite/shop latest --json"})
final class CopyCommand extends CliCommand {
    static final String ENV_TO_PASSWORD = "BACKUPKIT_TO_PASSWORD";

    @Mixin
    RepositoryOptions repository;

    @Option(names = "--to", required = true, paramLabel = "REPO2", description = "The destination repository (must exist; see init).")
    String to;

    @Option(names = "--to-password-file", paramLabel = "FILE", description = "Destination password from the first line of FILE.")
    Path toPasswordFile;

    @Option(names = "--to-key-file", paramLabel = "FILE", description = "Open the destination with a key file.")
    Path toKeyFile;

    @Parameters(paramLabel = "SNAPSHOT", arity = "0..*", description = "Snapshots to copy (ids, prefixes, latest); default: all.")
    List<String> snapshots = new ArrayList<>();

    CopyCommand(Terminal terminal) {
        super(terminal);
    }

    private Repository openDestination() {
        if (toKeyFile != null && toPasswordFile != null) {
            throw new ConfigurationException("give either --to-key-file or --to-password-file, not both");
        }
        Repository.Builder b = Repository.builder().location(to);
        Path cache = repository.cacheDirectory(terminal);
        if (cache != null) {
            b.cacheDirectory(cache);
        }
        if (toKeyFile != null) {
            b.keyFile(toKeyFile);
        } else {
            char[] pw = Secrets.fromFileOrEnv(toPasswordFile, "destination password file", terminal, ENV_TO_PASSWORD);
            if (pw != null) {
                b.password(pw);
            }
        }
        try {
            return b.open();
        } catch (io.backupkit.KeyRequiredException e) {
            throw new ConfigurationException("destination " + Redact.url(to) + " is encrypted: set " + ENV_TO_PASSWORD
                    + " or give --to-password-file or --to-key-file");
        }
    }

    @Override
    int run() {
        CopyResult r;
        try (Repository source = repository.open(terminal, null, !json()); Repository dest = openDestination()) {
            SnapshotCopier.Builder b = SnapshotCopier.builder().source(source).destination(dest);
            snapshots.forEach(b::snapshot);
            r = b.build().copy();
        }
        if (json()) {
            ObjectNode n = Json.object();
            ArrayNode copied = n.putArray("copied");
            for (CopyResult.Copied c : r.copied()) {
                ObjectNode o = copied.addObject();
                o.put("source", c.sourceId());
                o.put("destination", c.destinationId());
            }
            ArrayNode skipped = n.putArray("skipped");
            r.skipped().forEach(skipped::add);
            n.put("bytesRead", r.bytesRead());
            n.put("bytesWritten", r.bytesWritten());
            n.put("streamsReused", r.streamsReused());
            n.put("durationMillis", r.duration().toMillis());
            printJson(n);
            return ExitCodes.OK;
        }
        r.copied().forEach(c -> out().printf("copied %s as %s%n", c.sourceId().substring(0, 8), c.destinationId().substring(0, 8)));
        if (!r.skipped().isEmpty()) {
            out().printf("skipped %d snapshot%s the destination already has%n", r.skipped().size(), r.skipped().size() == 1 ? "" : "s");
        }
        out().printf("read %s, wrote %s (%d streams the destination already had were not read) in %s%n", Format.bytes(r.bytesRead()),
                Format.bytes(r.bytesWritten()), r.streamsReused(), Format.duration(r.duration()));
        out().flush();
        return ExitCodes.OK;
    }
}
