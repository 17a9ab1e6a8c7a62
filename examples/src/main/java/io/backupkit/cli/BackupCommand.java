package io.backupkit.cli;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "backup", description = "Back a database up into the repository as a new snapshot.",
        footer = {"", "With --physical, the whole PostgreSQL cluster (all databases and tablespaces) is backed up as a base backup",
                "for point-in-time restores (--db names any database of it). Method: low-level (pg_backup_start/stop, files read",
                "by backupkit) when this host can read the data directory, else pg_basebackup; choose with -o method=low-level|",
                "pg_basebackup, give the directory with -o dataDirectory=DIR.", "",
                "Examples:",
                "  backupkit backup --repo /var/backups/shop --db postgresql://backup@db.internal:5432/shop --jobs 4",
                "  backupkit backup --physical --repo /var/backups/cluster --db postgresql://backup@db.internal/postgres",
                "  backupkit backup --repo /var/backups/shop --db jdbc:postgresql://localhost/shop --tag env=prod --json",
                "  backupkit backup --repo /var/backups/db1 --db mariadb://backup@db1:3306/ --jobs 4 -o users=true",
                "  backupkit backup --repo /var/backups/app --db sqlite:/var/lib/app/app.db",
                "  backupkit backup --repo /var/backups/cache --db redis://backup@cache.internal:6379"})
final class BackupCommand extends CliCommand {
    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Option(names = "--db", required = true, paramLabel = "URL",
            description = "The database: postgresql://[user@]host[:port]/dbname or jdbc:postgresql://host[:port]/dbname, "
                    + "mysql://user@host[:port]/dbname or mariadb://… (no dbname: every database of the server), "
                    + "sqlite:PATH (a database file), redis://[user@]host:port (the whole instance).")
    String url;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel dump processes and pipeline workers (default: CPUs).")
    Integer jobs;

    @Option(names = "--physical", description = "Back up the whole cluster physically (a base backup for point-in-time restores).")
    boolean physical;

    @Option(names = "--compression", paramLabel = "CODEC",
            description = "Compression for new data: zstd[:LEVEL], gzip, lz4, xz, bzip2, none (default: the repository's).")
    String compression;

    @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "Tag the snapshot (repeatable).")
    Map<String, String> tags = new LinkedHashMap<>();

    @Mixin
    NotifyOptions notify;

    BackupCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        if (jobs != null && jobs < 1) {
            throw usage("--jobs must be at least 1, was " + jobs);
        }
        DatabaseEngine engine = Engines.forUrl(url);
        Map<String, String> extra = new LinkedHashMap<>();
        if (jobs != null) {
            extra.put("jobs", Integer.toString(jobs));
        }
        if (physical) {
            extra.put("physical", "true");
        }
        BackupSource source = engine.source(url, database.options(terminal, extra));
        BackupResult result;
        java.time.Instant started = java.time.Instant.now();
        java.util.List<io.backupkit.ops.WebhookNotifier> notifiers =
                notify.notifiers(terminal, io.backupkit.Storages.redact(repository.location(terminal)));
        try (Repository repo = repository.open(terminal, compression, !json());
             ProgressRenderer progress = progress("backup")) {
            BackupManager.Builder b = BackupManager.builder().repository(repo).source(source).listener(progress);
            if (jobs != null) {
                b.parallelism(jobs);
            }
            tags.forEach(b::tag);
            result = b.build().backup();
            progress.succeeded();
        } catch (RuntimeException e) {
            // one failed event for any failure, opening the repository included
            OneShotEvents.send(notifiers, OneShotEvents.failed(Errors.message(e), started), terminal);
            throw e;
        }
        OneShotEvents.send(notifiers, OneShotEvents.succeeded(result, started), terminal);
        if (json()) {
            printJson(Json.backup(result));
        } else {
            List<?> tables = Json.tables(result.snapshot());
            out().printf("snapshot %s saved (%s %s)%n", result.snapshot().shortId(), result.snapshot().engine(),
                    Redact.url(result.snapshot().source()));
            out().printf("  read     %s in %d streams%s%n", Format.bytes(result.bytesRead()), result.streams().size(),
                    tables.isEmpty() ? "" : ", " + tables.size() + " tables");
            out().printf("  stored   %s new (%s smaller after dedup and compression)%n", Format.bytes(result.bytesStored()),
                    Format.ratio(result.dedupRatio()));
            java.util.Map<String, Object> m = result.snapshot().metadata();
            if ("physical".equals(m.get("kind"))) {
                out().printf("  base     %s backup of cluster %s (PostgreSQL %s), WAL %s to %s on timeline %s, included%n", m.get("method"),
                        m.get("systemId"), m.get("pgVersion"), m.get("startLsn"), m.get("stopLsn"), m.get("timeline"));
            }
            out().printf("  time     %s%n", Format.duration(result.duration()));
            out().flush();
        }
        return ExitCodes.OK;
    }
}
