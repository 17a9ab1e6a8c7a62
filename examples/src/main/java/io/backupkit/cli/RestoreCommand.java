package io.backupkit.cli;

import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.RestoreResult;
import io.backupkit.Snapshot;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Restores a snapshot. Engine choices go to the engine's target as options: {@code dropExisting},
 * {@code terminateSessions}, {@code restoreGlobals}, {@code tables}, {@code schemaOnly}, {@code dataOnly}, {@code jobs},
 * {@code password}.
 */
@Command(name = "restore", description = "Restore a snapshot into a database.",
        footer = {"", "A restore into an existing database is refused unless --drop-existing is given;",
                "with --drop-existing it asks for confirmation on a terminal, or needs --yes.", "",
                "Examples:",
                "  backupkit restore --repo /var/backups/shop latest --target postgresql://localhost/shop_copy",
                "  backupkit restore --repo /var/backups/shop 1a2b3c4d --target postgresql://localhost/shop --drop-existing --yes",
                "  backupkit restore --repo /var/backups/shop latest --target postgresql://newhost/shop --restore-globals",
                "  backupkit restore --repo /var/backups/shop --target postgresql://localhost/shop_orders --tables public.orders --dry-run",
                "  backupkit restore --repo /var/backups/db1 latest --target mariadb://root@db2:3306/shop --to-time 2026-11-30T09:15:00Z"})
final class RestoreCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SNAPSHOT", defaultValue = "latest",
            description = "Snapshot id, unique id prefix, or latest (default).")
    String snapshot = "latest";

    @Option(names = "--target", required = true, paramLabel = "URL",
            description = "Database to restore into: postgresql://[user@]host[:port]/dbname or a JDBC URL (created if missing), "
                    + "mysql://user@host[:port]/dbname or mariadb://… (created if missing; no dbname for a whole-server MySQL snapshot), "
                    + "sqlite:PATH (a new file), redis://[user@]host:port (an empty server).")
    String target;

    @Option(names = "--to-time", paramLabel = "TIME",
            description = "MySQL/MariaDB: replay the archived binary logs on top of the snapshot up to this time "
                    + "(2026-11-30T09:15:00Z or '2026-11-30 10:15:00+01'); 'latest' picks the newest snapshot before it.")
    String toTime;

    @Option(names = "--to-position", paramLabel = "FILE:OFFSET",
            description = "MySQL/MariaDB: replay the archived binary logs up to this position (e.g. binlog.000042:1337).")
    String toPosition;

    @Option(names = "--to-latest", description = "MySQL/MariaDB: replay every archived binary log event after the snapshot.")
    boolean toLatest;

    @Option(names = "--binlog-source", paramLabel = "NAME",
            description = "MySQL/MariaDB: the binary log archive source to replay (default: the snapshot's server).")
    String binlogSource;

    @Option(names = "--drop-existing", description = "Replace the target database if it exists (asks first unless --yes). "
            + "The snapshot is restored under a temporary name first; the old database is replaced only when that succeeded.")
    boolean dropExisting;

    @Option(names = "--terminate-sessions", description = "With --drop-existing: end other sessions of the database being replaced "
            + "(without it, sessions on it make the restore fail and leave it unchanged).")
    boolean terminateSessions;

    @Option(names = "--restore-globals", description = "First restore the snapshot's roles, role memberships and tablespaces "
            + "(pg_dumpall --globals-only; passwords only if the backup took them). Existing roles are kept.")
    boolean restoreGlobals;

    @Option(names = "--tables", split = ",", paramLabel = "TABLE",
            description = "Restore only these tables (schema.table or table, comma-separated), with their sequences.")
    List<String> tables;

    @Option(names = "--schema-only", description = "Restore the schema without data.")
    boolean schemaOnly;

    @Option(names = "--data-only", description = "Restore data only, into an existing schema.")
    boolean dataOnly;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel restore streams (default: CPUs).")
    Integer jobs;

    @Option(names = "--dry-run", description = "Print what would be done and change nothing.")
    boolean dryRun;

    @Option(names = {"-y", "--yes"}, description = "Do not ask before dropping an existing database.")
    boolean yes;

    RestoreCommand(Terminal terminal) {
        super(terminal);
    }

    /** The engine options for this restore (documented keys, shared with the engines). */
    Map<String, String> engineOptions() {
        Map<String, String> o = new LinkedHashMap<>();
        if (dropExisting) {
            o.put("dropExisting", "true");
        }
        if (terminateSessions) {
            o.put("terminateSessions", "true");
        }
        if (restoreGlobals) {
            o.put("restoreGlobals", "true");
        }
        if (tables != null && !tables.isEmpty()) {
            o.put("tables", String.join(",", tables.stream().map(String::strip).filter(t -> !t.isEmpty()).toList()));
        }
        if (schemaOnly) {
            o.put("schemaOnly", "true");
        }
        if (dataOnly) {
            o.put("dataOnly", "true");
        }
        if (jobs != null) {
            o.put("jobs", Integer.toString(jobs));
        }
        String recoverTo = recoverTo();
        if (recoverTo != null) {
            o.put("recoverTo", recoverTo);
        }
        if (binlogSource != null) {
            o.put("binlogSource", binlogSource);
        }
        return o;
    }

    /** The MySQL recovery target as the engine option reads it, or null. */
    String recoverTo() {
        int given = (toTime != null ? 1 : 0) + (toPosition != null ? 1 : 0) + (toLatest ? 1 : 0);
        if (given > 1) {
            throw usage("give at most one of --to-time, --to-position, --to-latest");
        }
        if (toTime != null) {
            return Times.parseInstant(toTime, "--to-time").toString();
        }
        if (toPosition != null) {
            return toPosition.strip();
        }
        return toLatest ? "latest" : null;
    }

    @Override
    int run() {
        if (schemaOnly && dataOnly) {
            throw usage("--schema-only and --data-only exclude each other");
        }
        if (jobs != null && jobs < 1) {
            throw usage("--jobs must be at least 1, was " + jobs);
        }
        if (terminateSessions && !dropExisting) {
            throw usage("--terminate-sessions ends the sessions of a database being replaced: it needs --drop-existing");
        }
        if (tables != null && tables.stream().allMatch(t -> t.isBlank())) {
            throw usage("--tables needs at least one table name");
        }
        if (dropExisting && !dryRun && !yes) {
            confirmDrop();
        }
        DatabaseEngine engine = Engines.forUrl(target);
        if ((recoverTo() != null || binlogSource != null) && !"mysql".equals(engine.name())) {
            throw usage("--to-time, --to-position, --to-latest and --binlog-source replay MySQL/MariaDB binary logs; "
                    + Redact.url(target) + " is a " + engine.name() + " database");
        }
        RestoreTarget restoreTarget = engine.target(target, database.options(terminal, engineOptions()));
        RestoreResult result;
        try (Repository repo = repository.open(terminal, null, !json());
             ProgressRenderer progress = dryRun ? ProgressRenderer.none() : progress("restore")) {
            Snapshot s = repo.snapshots().get(snapshot);
            if (tables == null && !schemaOnly) {
                progress.expectedBytes(s.bytesRead());
            }
            RestoreManager.Builder b = RestoreManager.builder().repository(repo).snapshot(s.id())
                    .target(restoreTarget).dryRun(dryRun).listener(progress);
            if (jobs != null) {
                b.parallelism(jobs);
            }
            // a target that exists (TargetExistsException) is explained in the CLI's words by Errors
            result = b.build().restore();
            progress.succeeded();
        }
        if (json()) {
            printJson(Json.restore(result));
            return ExitCodes.OK;
        }
        RestorePlan plan = result.plan();
        String shortId = result.snapshotId().substring(0, Math.min(8, result.snapshotId().length()));
        if (result.dryRun()) {
            out().printf("dry run: restoring snapshot %s into %s would%n", shortId, plan == null ? restoreTarget.describe() : plan.target());
        } else {
            out().printf("restored snapshot %s into %s%n", shortId, plan == null ? restoreTarget.describe() : plan.target());
        }
        if (plan != null) {
            int i = 1;
            for (String action : plan.actions()) {
                out().printf("  %2d. %s%n", i++, action);
            }
        }
        if (result.dryRun()) {
            out().printf("reading %s from the repository; nothing was changed%n", Format.bytes(plan == null ? 0 : plan.bytes()));
        } else {
            out().printf("%s restored in %s%n", Format.bytes(result.bytesRestored()), Format.duration(result.duration()));
        }
        out().flush();
        return ExitCodes.OK;
    }

    private void confirmDrop() {
        String what = Redact.url(target);
        if (json() || !terminal.interactive) {
            throw usage("--drop-existing replaces the database at " + what + " if it exists; add --yes to confirm "
                    + "(there is no terminal to ask)");
        }
        String answer = terminal.ask("This replaces the database at " + what + " if it exists. Type 'yes' to continue: ");
        if (answer == null || !answer.strip().toLowerCase(Locale.ROOT).equals("yes")) {
            throw usage("restore cancelled: the database was not changed");
        }
    }
}
