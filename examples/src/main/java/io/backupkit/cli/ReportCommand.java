package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.ops.HtmlReport;
import io.backupkit.ops.RepositoryStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;

@Command(name = "report", description = "Write a self-contained HTML report: RPO and the last drill's RTO against their targets, warnings "
        + "(stale, failed, unverified), recoverable window, sizes and dedup over time, every snapshot.",
        footer = {"", "Examples:",
                "  backupkit report --repo /var/backups/shop --output backups.html",
                "  backupkit report --repo /var/backups/shop --output backups.html --rpo-target 25h --rto-target 30m --zone Europe/Berlin"})
final class ReportCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Option(names = "--output", required = true, paramLabel = "FILE.html", description = "Where to write the report.")
    Path output;

    @Option(names = "--rpo-target", paramLabel = "DURATION", converter = Durations.class,
            description = "RPO target (default: the one the scheduler recorded).")
    Duration rpoTarget;

    @Option(names = "--rto-target", paramLabel = "DURATION", converter = Durations.class,
            description = "RTO target (default: the one the scheduler recorded).")
    Duration rtoTarget;

    @Option(names = "--zone", paramLabel = "ZONE", defaultValue = "UTC", description = "Time zone of the times shown (default: UTC).")
    String zone;

    ReportCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        ZoneId zoneId;
        try {
            zoneId = ZoneId.of(zone);
        } catch (DateTimeException e) {
            throw new ConfigurationException("--zone '" + zone + "' is not a time zone: use a region such as Europe/Berlin, or UTC");
        }
        RepositoryStatus status;
        try (Repository repo = repository.open(terminal, null, !json())) {
            status = RepositoryStatus.read(repo, RepositoryStatus.Targets.of(rpoTarget, rtoTarget), Instant.now());
        }
        try {
            Files.writeString(output, HtmlReport.render(status, zoneId), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + output + " failed: " + e.getMessage(), e);
        }
        if (json()) {
            ObjectNode n = Json.object();
            n.put("output", output.toString());
            n.put("snapshots", status.snapshots().size());
            n.put("rpoSeconds", status.rpo().map(Duration::getSeconds).orElse(null));
            n.put("rpoTargetSeconds", status.rpoTarget() == null ? null : status.rpoTarget().getSeconds());
            n.put("rtoSeconds", status.rto().map(d -> d.toMillis() / 1000.0).orElse(null));
            n.put("rtoTargetSeconds", status.rtoTarget() == null ? null : status.rtoTarget().getSeconds());
            ArrayNode w = n.putArray("warnings");
            status.warnings().forEach(w::add);
            printJson(n);
        } else {
            out().printf("report written to %s: %d snapshot(s), RPO %s%s, RTO %s%s%n", output, status.snapshots().size(),
                    status.rpo().map(Format::duration).orElse("none"),
                    status.rpoTarget() == null ? "" : " (target " + Format.duration(status.rpoTarget()) + ")",
                    status.rto().map(Format::duration).orElse("not measured"),
                    status.rtoTarget() == null ? "" : " (target " + Format.duration(status.rtoTarget()) + ")");
            status.warnings().forEach(w -> out().println("  warning: " + w));
            out().flush();
        }
        return ExitCodes.OK;
    }
}
