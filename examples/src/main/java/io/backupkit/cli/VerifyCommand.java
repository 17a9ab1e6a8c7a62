package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.PhysicalSnapshots;
import io.backupkit.postgres.PostgresDataDirectoryTarget;
import io.backupkit.spi.RestoreTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "verify", description = "Prove snapshots can be restored: quick (every blob present), standard (every byte read and checked), comprehensive (restored into a scratch database and compared).",
        footer = {"", "Exit code 3 when any check fails.", "", "Examples:",
                "  backupkit verify --repo /var/backups/shop",
                "  backupkit verify --repo /var/backups/shop --all --level quick --json",
                "  backupkit verify --repo /var/backups/shop latest --level comprehensive --scratch postgresql://localhost/postgres",
                "", "A physical base backup is verified comprehensively without --scratch: it is restored into a scratch data directory,",
                "started as a throwaway server (as user postgres when run as root) and checked with pg_amcheck. At every level a",
                "physical base backup also gets one check per timeline: the archived WAL after it, every missing segment named."})
final class VerifyCommand extends CliCommand {
    enum Level { quick, standard, comprehensive }

    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SNAPSHOT",
            description = "Snapshot id, unique id prefix, or latest (default).")
    String snapshot;

    @Option(names = "--all", description = "Verify every snapshot.")
    boolean all;

    @Option(names = "--level", paramLabel = "LEVEL", defaultValue = "standard",
            description = "quick, standard (default) or comprehensive.")
    Level level = Level.standard;

    @Option(names = "--scratch", paramLabel = "URL",
            description = "Server for comprehensive verification: a scratch database is created there, compared and dropped "
                    + "(postgresql://host/postgres, mariadb://user@host:port/).")
    String scratch;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel readers (default: CPUs).")
    Integer jobs;

    VerifyCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        if (all && snapshot != null) {
            throw usage("give a SNAPSHOT or --all, not both");
        }
        if (jobs != null && jobs < 1) {
            throw usage("--jobs must be at least 1, was " + jobs);
        }
        VerificationLevel vl = VerificationLevel.valueOf(level.name().toUpperCase(Locale.ROOT));
        RestoreTarget scratchTarget = null;
        if (vl == VerificationLevel.COMPREHENSIVE) {
            if (scratch != null) {
                scratchTarget = Engines.forUrl(scratch).target(scratch, database.options(terminal, Map.of()));
            }
        } else if (scratch != null) {
            throw usage("--scratch is only used by --level comprehensive");
        }
        List<VerificationReport> reports = new ArrayList<>();
        try (Repository repo = repository.open(terminal, null, !json())) {
            List<String> ids = all ? repo.snapshots().list().stream().map(Snapshot::id).toList()
                    : List.of(repo.snapshots().get(snapshot == null ? "latest" : snapshot).id());
            for (String id : ids) {
                RestoreTarget t = scratchTarget;
                if (vl == VerificationLevel.COMPREHENSIVE && PhysicalSnapshots.info(repo.snapshots().get(id)).isPresent()) {
                    // a base backup is verified on a throwaway server started from a scratch data directory
                    t = PostgresDataDirectoryTarget.builder().scratchDirectory(java.nio.file.Path.of(System.getProperty("java.io.tmpdir")))
                            .build();
                } else if (vl == VerificationLevel.COMPREHENSIVE && t == null) {
                    throw usage("--level comprehensive restores a logical snapshot into a scratch database: give --scratch URL "
                            + "(e.g. postgresql://localhost/postgres)");
                }
                Verifier.Builder b = Verifier.builder().repository(repo).snapshot(id).level(vl).scratchTarget(t);
                if (jobs != null) {
                    b.parallelism(jobs);
                }
                VerificationReport report = b.build().verify();
                List<VerificationCheck> wal = PhysicalSnapshots.verifyWal(repo, repo.snapshots().get(id));
                if (!wal.isEmpty()) {
                    // a base backup is only as good as the WAL after it: continuity per timeline, gaps named
                    List<VerificationCheck> all = new ArrayList<>(report.checks());
                    all.addAll(wal);
                    report = new VerificationReport(report.snapshotId(), report.level(), all, report.duration());
                }
                reports.add(report);
                if (!json()) {
                    print(report);
                }
            }
        }
        boolean passed = reports.stream().allMatch(VerificationReport::passed);
        if (json()) {
            ObjectNode n = Json.object();
            n.put("passed", passed);
            n.put("level", level.name());
            ArrayNode arr = n.putArray("reports");
            reports.forEach(r -> arr.add(Json.verification(r)));
            printJson(n);
        } else if (reports.isEmpty()) {
            out().println("no snapshots to verify");
        } else {
            long failed = reports.stream().filter(r -> !r.passed()).count();
            out().println(passed ? "verification passed" : "verification FAILED for " + failed + " of " + reports.size() + " snapshot(s)");
        }
        out().flush();
        return passed ? ExitCodes.OK : ExitCodes.INTEGRITY;
    }

    private void print(VerificationReport r) {
        long ok = r.checks().stream().filter(c -> c.status() == VerificationCheck.Status.PASSED).count();
        long ran = r.checks().stream().filter(c -> c.status() != VerificationCheck.Status.SKIPPED).count();
        out().printf("snapshot %s, %s: %d/%d checks passed in %s%n", r.snapshotId().substring(0, Math.min(8, r.snapshotId().length())),
                r.level().name().toLowerCase(Locale.ROOT), ok, ran, r.duration() == null ? "?" : Format.duration(r.duration()));
        for (VerificationCheck c : r.checks()) {
            if (c.status() != VerificationCheck.Status.PASSED || output.verbose || r.checks().size() <= 30) {
                out().printf("  %-7s %s%s%n", c.status().name(), c.name(),
                        c.message() == null || c.message().isBlank() ? "" : ": " + c.message());
            }
        }
        out().flush();
    }
}
