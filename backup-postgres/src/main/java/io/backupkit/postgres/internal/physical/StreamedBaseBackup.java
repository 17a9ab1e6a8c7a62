package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.Lsn;
import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.postgres.internal.Catalog;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BlockOutputStream;
import io.backupkit.spi.Chunking;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A base backup streamed by {@code pg_basebackup -D - -Ft -X fetch -c fast} from a server backupkit
 * cannot see the files of: one tar archive on stdout, parsed on the fly so fixed-size blocks align to
 * file offsets, never written to local disk. The WAL the backup needs comes inside the archive
 * ({@code -X fetch}); a temporary replication slot held by a JDBC session keeps the server from
 * recycling that WAL before pg_basebackup fetches it at the end.
 *
 * <p>pg_basebackup can write only one tablespace to stdout, and with an output directory it insists
 * on an empty one (so named pipes cannot stand in for its files): a cluster with user tablespaces is
 * refused with a pointer to the low-level method, which reads the files itself.
 */
public final class StreamedBaseBackup {
    private static final Logger LOG = LoggerFactory.getLogger(StreamedBaseBackup.class);
    private static final Pattern END_POINT = Pattern.compile("write-ahead log end point: ([0-9A-Fa-f]+/[0-9A-Fa-f]+)");
    public static final String BASE_STREAM = "base.tar";

    private final PgConnectionConfig cfg;
    private final Path toolDirectory;
    private final int blockSize;
    private final String label;

    public StreamedBaseBackup(PgConnectionConfig cfg, Path toolDirectory, int blockSize, String label) {
        this.cfg = cfg;
        this.toolDirectory = toolDirectory;
        this.blockSize = blockSize;
        this.label = label;
    }

    public void run(BackupContext context) {
        try (Connection c = Catalog.connect(cfg, "backupkit physical backup")) {
            ClusterInfo info = ClusterInfo.read(c);
            info.requirePhysicalBackup(cfg.describe(), true);
            if (!info.tablespaces().isEmpty()) {
                throw new ConfigurationException("pg_basebackup can stream only a cluster without user tablespaces, and "
                        + cfg.describe() + " has " + info.tablespaces().stream().map(t -> t.name() + " (" + t.location() + ")")
                        .collect(Collectors.joining(", ")) + ": back it up with the low-level method where backupkit can read "
                        + "the data directory (PostgresPhysicalSource.method(LOW_LEVEL), CLI: -o method=low-level, optionally "
                        + "-o dataDirectory=DIR)");
            }
            context.expectedBytes(Sql.clusterBytes(c));
            String slot = Sql.reserveWal(c);
            run(context, info, slot);
        } catch (SQLException e) {
            throw Catalog.sqlError("base backup of " + cfg.describe(), e);
        }
    }

    private void run(BackupContext context, ClusterInfo info, String slot) {
        ToolRunner tools = new ToolRunner(context.commandExecutor(), toolDirectory, cfg);
        CommandSpec spec = tools.command("pg_basebackup")
                .arg("--dbname=" + cfg.libpqConnectionString("backupkit pg_basebackup"))
                .arg("--pgdata=-").arg("--format=tar").arg("--wal-method=fetch").arg("--checkpoint=fast")
                .arg("--no-manifest").arg("--verbose").arg("--no-password").arg("--label=" + label)
                .build();
        FileList fileList = new FileList();
        ArchiveCopier copier = new ArchiveCopier(Set.of("backup_label", "global/pg_control")).listInto(fileList, "base");
        String stderr;
        int exit;
        Instant stopTime;
        try (RunningCommand rc = tools.start("pg_basebackup", spec)) {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "pg_basebackup");
            rc.stdin().close();
            BackupException failure = null;
            try (InputStream out = rc.stdout(); BlockOutputStream stream = context.newStream(BASE_STREAM, PhysicalMetadata.chunking(blockSize))) {
                copier.copy(new TarReader(out, "pg_basebackup's output"), stream);
            } catch (BackupException e) {
                failure = e;
            } catch (IOException e) {
                failure = new EngineException("reading pg_basebackup's output failed: " + e.getMessage(), e);
            }
            if (failure != null) {
                rc.destroy();
            }
            exit = rc.waitFor();
            stderr = err.await();
            stopTime = Instant.now();
            if (exit != 0) {
                throw new EngineException("pg_basebackup failed (exit code " + exit + ")" + hint(stderr), exit, stderr, failure);
            }
            if (failure != null) {
                throw failure;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while running pg_basebackup", e);
        } catch (IOException e) {
            throw new EngineException("cannot talk to pg_basebackup: " + e.getMessage(), e);
        }
        byte[] labelBytes = copier.captured("backup_label");
        byte[] control = copier.captured("global/pg_control");
        if (labelBytes == null || control == null) {
            throw new EngineException("pg_basebackup's archive has no " + (labelBytes == null ? "backup_label" : "global/pg_control")
                    + "; it is not a base backup");
        }
        Matcher m = END_POINT.matcher(stderr);
        if (!m.find()) {
            throw new EngineException("pg_basebackup did not report the write-ahead log end point", exit, stderr, null);
        }
        Lsn stop = Lsn.parse(m.group(1));
        BackupLabel bl = BackupLabel.parse(new String(labelBytes, StandardCharsets.UTF_8));
        ControlFile pgControl = ControlFile.parse(control);
        if (info.systemIdentifier() != null && !info.systemIdentifier().equals(pgControl.systemIdentifier())) {
            throw new EngineException("pg_basebackup returned a cluster with system identifier " + pgControl.systemIdentifier()
                    + " but the server reports " + info.systemIdentifier());
        }
        long seg = info.walSegmentSize();
        PhysicalMetadata meta = new PhysicalMetadata(PhysicalMetadata.METHOD_PG_BASEBACKUP, pgControl.systemIdentifier(), bl.timeline(),
                bl.startLsn(), stop, bl.checkpointLsn(), WalNames.segmentOf(bl.timeline(), bl.startLsn(), seg),
                WalNames.segmentName(bl.timeline(), PhysicalMetadata.lastSegment(stop, seg), seg), bl.startTime(), stopTime, info.version(),
                info.versionNum(), seg, info.tablespaces(), true, info.superuser(), blockSize, bl.text(), copier.files(), copier.bytes());
        fileList.write(context);
        meta.toMap().forEach(context::putMetadata);
        context.putMetadata("fileList", FileList.STREAM);
        LOG.info("base backup of {} (pg_basebackup{}): {} files, {} bytes, WAL {} to {}", cfg.describe(),
                slot == null ? "" : ", WAL held by slot " + slot, copier.files(), copier.bytes(), bl.startLsn(), stop);
    }

    private static String hint(String stderr) {
        if (stderr.contains("no pg_hba.conf entry for replication")) {
            return ": the server refuses replication connections from here; add a 'host replication <role> <address> scram-sha-256' "
                    + "line to pg_hba.conf and reload";
        }
        if (stderr.contains("number of requested standby connections exceeds") || stderr.contains("max_wal_senders")) {
            return ": all WAL senders are busy; raise max_wal_senders (needs a restart)";
        }
        if (stderr.contains("requested WAL segment") && stderr.contains("has already been removed")) {
            return ": the server recycled WAL the backup needs; keep more WAL (wal_keep_size) or give the role REPLICATION so "
                    + "backupkit can hold it with a temporary slot";
        }
        return "";
    }
}
