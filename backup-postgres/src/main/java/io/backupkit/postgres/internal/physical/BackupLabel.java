package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.Lsn;
import io.backupkit.EngineException;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code backup_label} file PostgreSQL writes for a base backup: where replay starts (START WAL
 * LOCATION), the checkpoint, the timeline and the start time.
 *
 * <pre>
 * START WAL LOCATION: 0/4000028 (file 000000010000000000000004)
 * CHECKPOINT LOCATION: 0/4000060
 * BACKUP METHOD: streamed
 * BACKUP FROM: primary
 * START TIME: 2026-11-30 03:55:16 UTC
 * LABEL: pg_basebackup base backup
 * START TIMELINE: 1
 * </pre>
 */
public record BackupLabel(String text, Lsn startLsn, String startWalFile, Lsn checkpointLsn, int timeline, Instant startTime,
                          String label, String backupFrom) {

    public static BackupLabel parse(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0) {
                fields.put(line.substring(0, colon).strip(), line.substring(colon + 2).strip());
            }
        }
        String start = require(fields, "START WAL LOCATION", text);
        // "0/4000028 (file 000000010000000000000004)"
        String[] parts = start.split("\\s+");
        Lsn startLsn = Lsn.parse(parts[0]);
        String file = parts.length >= 3 ? parts[2].replace(")", "") : null;
        Lsn checkpoint = Lsn.parse(require(fields, "CHECKPOINT LOCATION", text));
        int timeline;
        if (fields.containsKey("START TIMELINE")) {
            timeline = Integer.parseInt(fields.get("START TIMELINE"));
        } else if (file != null && WalNames.SEGMENT.matcher(file).matches()) {
            timeline = WalNames.timeline(file);
        } else {
            throw new EngineException("backup_label has no START TIMELINE: " + text.strip());
        }
        Instant time = parseTime(fields.get("START TIME"));
        return new BackupLabel(text, startLsn, file, checkpoint, timeline, time, fields.get("LABEL"), fields.get("BACKUP FROM"));
    }

    private static String require(Map<String, String> fields, String key, String text) {
        String v = fields.get(key);
        if (v == null) {
            throw new EngineException("backup_label has no " + key + " line: " + text.strip());
        }
        return v;
    }

    /** "2026-11-30 03:55:16 UTC" (the server's log_timezone abbreviation or offset). */
    static Instant parseTime(String s) {
        if (s == null) {
            return null;
        }
        int space = s.lastIndexOf(' ');
        if (space < 0) {
            return null;
        }
        try {
            LocalDateTime local = LocalDateTime.parse(s.substring(0, space), DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss"));
            String zone = s.substring(space + 1);
            ZoneId id;
            if (zone.equals("UTC") || zone.equals("GMT")) {
                id = ZoneOffset.UTC;
            } else if (zone.matches("[+-]\\d{2}(:?\\d{2})?")) {
                id = ZoneOffset.of(zone.length() == 3 ? zone + ":00" : zone);
            } else {
                // an abbreviation such as CET is ambiguous; the stop time recorded by backupkit is exact anyway
                return null;
            }
            return local.atZone(id).toInstant();
        } catch (java.time.DateTimeException e) {
            return null;
        }
    }
}
