package io.backupkit.cli;

import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.RestoreResult;
import io.backupkit.Snapshot;
import io.backupkit.postgres.PostgresDataDirectoryTarget;
import io.backupkit.postgres.RecoveryTarget;
import io.backupkit.postgres.RecoveryTargetAction;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Restores a snapshot. Engine choices go to the engine's target as options: {@code dropExisting},
 * {@code terminateSessions}, {@code restoreGlobals}, {@code tables}, {@code schemaOnly}, {@code dataOnly}, {@code jobs},
 * {@code password}, and for MySQL/MariaDB {@code recoverTo} and {@code binlogSource}. With {@code --pgdata} a physical
 * PostgreSQL snapshot is restored into a data directory for point-in-time recovery. {@code --to-time} is shared: it goes to
 * PostgreSQL's recovery with {@code --pgdata} and to the binary log replay for a MySQL/MariaDB {@code --target}; every other
 * point-in-time option belongs to one engine and is refused, with what to use instead, for the other.
 */
@Command(name = "restore", description = "Restore a snapshot into a database, or a base backup into a data directory to a point in time.",
        footer = {"", "A restore into an existing database is refused unless --drop-existing is given;",
                "with --drop-existing it asks for confirmation on a terminal, or needs --yes.", "",
                "With --pgdata the snapshot must be a physical base backup (backup --physical); 'latest' picks the newest one",
                "that ended before the target. The directory must be empty or missing. Start the server afterwards with",
                "pg_ctl -D DIR start: it replays WAL from the repository to the target (--to-*; default: all archived WAL).", "",
                "Examples:",
                "  backupkit restore --repo /var/backups/cluster latest --pgdata /var/lib/postgresql/15/restored \\",
                "      --to-time '2026-11-22 14:32:00+01' --target-action promote",
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

    @Option(names = "--target", paramLabel = "URL",
            description = "Database to restore into: postgresql://[user@]host[:port]/dbname or a JDBC URL (created if missing), "
                    + "mysql://user@host[:port]/dbname or mariadb://… (created if missing; no dbname for a whole-server MySQL snapshot), "
                    + "sqlite:PATH (a new file), redis://[user@]host:port (an empty server).")
    String target;

    @Option(names = "--pgdata", paramLabel = "DIR",
            description = "Data directory to restore a physical base backup into (empty or missing), for point-in-time recovery.")
    Path pgdata;

    @Option(names = "--to-time", paramLabel = "TIME",
            description = "Recover to this time ('2026-11-22 14:32:00+01' or 2026-11-22T13:32:00Z): with --pgdata PostgreSQL replays WAL "
                    + "up to it; with a mysql:// or mariadb:// --target the archived binary logs are replayed on top of the snapshot up to it. "
                    + "'latest' picks the newest snapshot before it.")
    String toTime;

    @Option(names = "--to-lsn", paramLabel = "LSN", description = "Recover to this WAL location (e.g. 16/B374D848).")
    String toLsn;

    @Option(names = "--to-xid", paramLabel = "XID", description = "Recover to the commit of this transaction.")
    Long toXid;

    @Option(names = "--to-name", paramLabel = "NAME", description = "Recover to this restore point (pg_create_restore_point).")
    String toName;

    @Option(names = "--to-immediate", description = "Recover only until the base backup is consistent.")
    boolean toImmediate;

    @Option(names = "--to-position", paramLabel = "FILE:OFFSET",
            description = "MySQL/MariaDB: replay the archived binary logs up to this position (e.g. binlog.000042:1337).")
    String toPosition;

    @Option(names = "--to-latest", description = "Recover to the end of the archive: with a mysql:// or mariadb:// --target every "
            + "archived binary log event after the snapshot is replayed; with --pgdata every archived WAL (the default there).")
    boolean toLatest;

    @Option(names = "--binlog-source", paramLabel = "NAME",
            description = "MySQL/MariaDB: the binary log archive source to replay (default: the snapshot's server).")
    String binlogSource;

    @Option(names = "--target-action", paramLabel = "ACTION",
            description = "At the target: pause (PostgreSQL's default), promote or shutdown.")
    RecoveryTargetAction targetAction;

    @Option(names = "--timeline", paramLabel = "TLI", description = "Timeline to recover along: latest (default), current or a number.")
    String timeline;

    @Option(names = {"-T", "--tablespace-mapping"}, paramLabel = "OLD=NEW",
            description = "Restore the tablespace at OLD (its location, name or oid) into directory NEW (repeatable).")
    Map<String, Path> tablespaceMappings = new LinkedHashMap<>();

    @Option(names = "--keep-archiving", description = "Keep the source's archive settings in the restored copy (default: archive_mode = off).")
    boolean keepArchiving;

    @Option(names = "--os-user", paramLabel = "USER",
            description = "OS user the restored server runs as, who owns the files (default: yours; postgres when run as root).")
    String osUser;

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

    /** The PostgreSQL physical-restore options given on the command line, by name (they need --pgdata). */
    private List<String> physicalOptionsGiven() {
        List<String> given = new java.util.ArrayList<>();
        if (toLsn != null) {
            given.add("--to-lsn");
        }
        if (toXid != null) {
            given.add("--to-xid");
        }
        if (toName != null) {
            given.add("--to-name");
        }
        if (toImmediate) {
            given.add("--to-immediate");
        }
        if (targetAction != null) {
            given.add("--target-action");
        }
        if (timeline != null) {
            given.add("--timeline");
        }
        if (!tablespaceMappings.isEmpty()) {
            given.add("--tablespace-mapping");
        }
        if (keepArchiving) {
            given.add("--keep-archiving");
        }
        if (osUser != null) {
            given.add("--os-user");
        }
        return given;
    }

    @Override
    int run() {
        if ((target == null) == (pgdata == null)) {
            throw usage("give --target URL (a database) or --pgdata DIR (a data directory for a physical base backup)");
        }
        if (pgdata != null) {
            return restoreDataDirectory();
        }
        DatabaseEngine engine = Engines.forUrl(target);
        boolean mysql = "mysql".equals(engine.name());
        List<String> physical = physicalOptionsGiven();
        if (!physical.isEmpty()) {
            throw usage(String.join(", ", physical) + (physical.size() == 1 ? " applies" : " apply")
                    + " to --pgdata restores of PostgreSQL physical base backups, not to a --target database"
                    + (mysql ? "; a MySQL/MariaDB point in time is given with --to-time, --to-position or --to-latest" : ""));
        }
        if (!mysql && (toTime != null || toPosition != null || toLatest || binlogSource != null)) {
            throw usage("--to-time, --to-position, --to-latest and --binlog-source with --target replay MySQL/MariaDB binary logs; "
                    + Redact.url(target) + " is a " + engine.name() + " database"
                    + ("postgresql".equals(engine.name()) ? "; a PostgreSQL cluster is recovered to a point in time from a physical "
                            + "base backup (backup --physical) with --pgdata DIR --to-time TIME" : ""));
        }
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
        RestoreTarget restoreTarget = engine.target(target, database.options(terminal, engineOptions()));
        RestoreResult result = restore(restoreTarget, repo -> repo.snapshots().get(snapshot), tables == null && !schemaOnly);
        print(result, "snapshot", restoreTarget);
        out().flush();
        return ExitCodes.OK;
    }

    /**
     * Restores the snapshot {@code pick} chooses into {@code into}, with progress; {@code whole} when every byte of it is
     * restored, so the snapshot's size is where the progress ends.
     */
    private RestoreResult restore(RestoreTarget into, Function<Repository, Snapshot> pick, boolean whole) {
        try (Repository repo = repository.open(terminal, null, !json());
             ProgressRenderer progress = dryRun ? ProgressRenderer.none() : progress("restore")) {
            Snapshot s = pick.apply(repo);
            if (whole) {
                progress.expectedBytes(s.bytesRead());
            }
            RestoreManager.Builder b = RestoreManager.builder().repository(repo).snapshot(s.id()).target(into).dryRun(dryRun)
                    .listener(progress);
            if (jobs != null) {
                b.parallelism(jobs);
            }
            // a target that exists (TargetExistsException) is explained in the CLI's words by Errors
            RestoreResult result = b.build().restore();
            progress.succeeded();
            return result;
        }
    }

    /** The JSON document, or the plan's actions and what was (or would be) read or restored; {@code what}: snapshot, base backup. */
    private void print(RestoreResult result, String what, RestoreTarget into) {
        if (json()) {
            printJson(Json.restore(result));
            return;
        }
        RestorePlan plan = result.plan();
        String shortId = result.snapshotId().substring(0, Math.min(8, result.snapshotId().length()));
        out().printf(result.dryRun() ? "dry run: restoring %s %s into %s would%n" : "restored %s %s into %s%n", what, shortId,
                plan == null ? into.describe() : plan.target());
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
    }

    private RecoveryTarget recoveryTarget() {
        List<RecoveryTarget> given = new java.util.ArrayList<>();
        if (toTime != null) {
            given.add(RecoveryTarget.time(toTime));
        }
        if (toLsn != null) {
            given.add(RecoveryTarget.lsn(toLsn));
        }
        if (toXid != null) {
            given.add(RecoveryTarget.xid(toXid));
        }
        if (toName != null) {
            given.add(RecoveryTarget.name(toName));
        }
        if (toImmediate) {
            given.add(RecoveryTarget.immediate());
        }
        if (toLatest) {
            given.add(RecoveryTarget.latest());
        }
        if (given.size() > 1) {
            throw usage("give at most one of --to-time, --to-lsn, --to-xid, --to-name, --to-immediate, --to-latest");
        }
        return given.isEmpty() ? RecoveryTarget.latest() : given.get(0);
    }

    private int restoreDataDirectory() {
        if (dropExisting || tables != null || schemaOnly || dataOnly || terminateSessions || restoreGlobals) {
            throw usage("--drop-existing, --terminate-sessions, --restore-globals, --tables, --schema-only and --data-only apply to "
                    + "--target restores; a data directory is restored whole, and only into an empty one");
        }
        if (toPosition != null || binlogSource != null) {
            throw usage("--to-position and --binlog-source replay MySQL/MariaDB binary logs into a --target database; a --pgdata "
                    + "restore replays PostgreSQL WAL: give --to-time, --to-lsn, --to-xid, --to-name, --to-immediate or --to-latest (default)");
        }
        if (jobs != null && jobs < 1) {
            throw usage("--jobs must be at least 1, was " + jobs);
        }
        RecoveryTarget rt = recoveryTarget();
        PostgresDataDirectoryTarget.Builder tb = PostgresDataDirectoryTarget.builder().pgdata(pgdata.toAbsolutePath()).recoveryTarget(rt)
                .archiving(keepArchiving).osUser(osUser);
        if (targetAction != null) {
            tb.targetAction(targetAction);
        }
        if (timeline != null) {
            tb.timeline(timeline);
        }
        tablespaceMappings.forEach((from, to) -> tb.tablespaceMapping(from, to.toAbsolutePath()));
        PostgresDataDirectoryTarget dataTarget = tb.build();
        RestoreResult result = restore(dataTarget,
                repo -> "latest".equals(snapshot) ? dataTarget.latest(repo, repo.snapshots().list()) : repo.snapshots().get(snapshot), true);
        print(result, "base backup", dataTarget);
        if (!json() && !result.dryRun()) {
            out().printf("next: pg_ctl -D %s start%s; it recovers to %s%s%n", result.plan().target(),
                    osUser != null || "root".equals(System.getProperty("user.name")) ? " (as " + (osUser == null ? "postgres" : osUser) + ")" : "",
                    rt, targetAction == null || rt.type() == RecoveryTarget.Type.LATEST ? "" : ", then " + switch (targetAction) {
                        case PAUSE -> "pauses (SELECT pg_wal_replay_resume() promotes)";
                        case PROMOTE -> "promotes";
                        case SHUTDOWN -> "shuts down";
                    });
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
