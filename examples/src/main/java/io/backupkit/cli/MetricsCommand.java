package io.backupkit.cli;

import io.backupkit.Repository;
import io.backupkit.ops.PrometheusText;
import io.backupkit.ops.RepositoryStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

@Command(name = "metrics", description = "Print the repository's metrics as Prometheus text (for node_exporter's textfile collector), "
        + "computed from its snapshots and run records.",
        footer = {"", "Examples:",
                "  backupkit metrics --repo /var/backups/shop",
                "  backupkit metrics --repo /var/backups/shop --rpo-target 25h --output /var/lib/node_exporter/textfile/backupkit.prom"})
final class MetricsCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--rpo-target", paramLabel = "DURATION", converter = Durations.class,
            description = "RPO target to export (default: the one the scheduler recorded).")
    Duration rpoTarget;

    @Option(names = "--rto-target", paramLabel = "DURATION", converter = Durations.class,
            description = "RTO target to export (default: the one the scheduler recorded).")
    Duration rtoTarget;

    @Option(names = "--output", paramLabel = "FILE",
            description = "Write to FILE atomically (a temporary file renamed over it) instead of stdout.")
    Path output;

    MetricsCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        String text;
        try (Repository repo = repository.open(terminal, null, false)) {
            text = PrometheusText.forRepository(repo, RepositoryStatus.Targets.of(rpoTarget, rtoTarget));
        }
        if (output == null) {
            out().print(text);
            out().flush();
            return ExitCodes.OK;
        }
        try {
            Path dir = output.toAbsolutePath().getParent();
            Path tmp = Files.createTempFile(dir, ".backupkit-metrics", ".tmp");
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            // node_exporter must never read a half-written file
            Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + output + " failed: " + e.getMessage(), e);
        }
        terminal.err.println("metrics written to " + output);
        terminal.err.flush();
        return ExitCodes.OK;
    }
}
