package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "init", description = "Create a new, empty repository.",
        footer = {"", "Examples:",
                "  BACKUPKIT_PASSWORD=… backupkit init --repo /var/backups/shop",
                "  backupkit init --repo s3://my-bucket/shop --key-file /etc/backupkit/shop.key",
                "  backupkit init --repo ./scratch --unencrypted --compression zstd:9"})
final class InitCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--unencrypted", description = "Create a repository without encryption (blobs are still checksummed).")
    boolean unencrypted;

    @Option(names = "--compression", paramLabel = "CODEC",
            description = "Default compression for new data: zstd[:LEVEL] (default zstd:1; zstd alone: level 3), gzip, lz4, xz, bzip2, none.")
    String compression;

    InitCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        boolean hasKey = repository.hasKey(terminal);
        if (unencrypted && hasKey) {
            throw usage("--unencrypted creates a repository without a key: do not also give a password or key file");
        }
        char[] typed = null;
        if (!unencrypted && !hasKey) {
            typed = terminal.interactive && !json() ? RepositoryOptions.askNewPassword(terminal) : null;
            if (typed == null) {
                throw usage("a new repository needs a key: set BACKUPKIT_PASSWORD, or give --password-file FILE or "
                        + "--key-file FILE (or --unencrypted for no encryption)");
            }
        }
        Repository.Builder b = repository.builder(terminal, true);
        if (typed != null) {
            b.password(typed);
        }
        if (unencrypted) {
            b.unencrypted();
        }
        if (compression != null) {
            b.compression(compression);
        }
        try (Repository repo = b.create()) {
            if (json()) {
                ObjectNode n = Json.object();
                ObjectNode r = n.putObject("repository");
                r.put("id", repo.id());
                r.put("location", repo.location());
                r.put("encrypted", repo.encrypted());
                r.put("compression", repo.compression().name() + ":" + repo.compression().level());
                printJson(n);
            } else {
                out().printf("created repository %s at %s (%s, compression %s:%d)%n", shortId(repo.id()), repo.location(),
                        repo.encrypted() ? "encrypted" : "NOT encrypted", repo.compression().name(), repo.compression().level());
            }
        }
        return ExitCodes.OK;
    }

    private static String shortId(String id) {
        return id.length() > 8 ? id.substring(0, 8) : id;
    }
}
