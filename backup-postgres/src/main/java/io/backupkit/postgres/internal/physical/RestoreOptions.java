package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.Lsn;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a physical restore does, as configured on {@code PostgresDataDirectoryTarget}.
 *
 * @param pgdata               the empty (or missing) data directory to restore into
 * @param targetType           LATEST, IMMEDIATE, TIME, LSN, XID or NAME
 * @param settings             recovery_target* settings of the target
 * @param targetDescription    the target for messages
 * @param targetTime           the target time (TIME), else null
 * @param targetLsn            the target LSN (LSN), else null
 * @param action               recovery_target_action value, or null for the server's default (pause)
 * @param timeline             "latest", "current" or a timeline number
 * @param tablespaceMappings   old location, name or oid → new location
 * @param osUser               owner of the restored files (null: the JVM's user)
 * @param restoreCommand       an explicit restore_command, or null to generate one
 * @param archiving            keep the source's archive settings (default: archive_mode = off)
 * @param stageWal             copy the WAL the target needs into pg_wal during the restore
 * @param helperDirectory      where the generated restore_command and its key go (null: beside pgdata)
 * @param javaExecutable       java for the generated restore_command (null: this JVM's)
 * @param classpath            jars and directories for the generated restore_command (empty: found)
 * @param toolDirectory        PostgreSQL server binaries (pg_ctl, postgres, pg_amcheck) for verification
 */
public record RestoreOptions(Path pgdata, String targetType, Map<String, String> settings, String targetDescription,
                             java.time.Instant targetTime, Lsn targetLsn, String action, String timeline,
                             Map<String, Path> tablespaceMappings, String osUser, String restoreCommand, boolean archiving,
                             boolean stageWal, Path helperDirectory, Path javaExecutable, List<Path> classpath, Path toolDirectory) {
}
