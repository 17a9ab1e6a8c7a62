package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.Lsn;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;

/**
 * Where a point-in-time restore stops replaying WAL: PostgreSQL's {@code recovery_target_*} settings
 * as a value. {@link #latest()} (the default) replays everything the archive holds.
 *
 * <pre>{@code
 * RecoveryTarget.time(Instant.parse("2026-11-22T14:32:00Z"));   // just before the bad migration
 * RecoveryTarget.lsn("16/B374D848");
 * RecoveryTarget.xid(4711).inclusive(false);                  // stop just before transaction 4711 commits
 * RecoveryTarget.name("before_migration");                    // pg_create_restore_point('before_migration')
 * RecoveryTarget.immediate();                                 // as soon as the base backup is consistent
 * }</pre>
 */
public final class RecoveryTarget {
    private static final DateTimeFormatter PG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx", Locale.ROOT);

    /** The kind of target. */
    public enum Type { LATEST, IMMEDIATE, TIME, LSN, XID, NAME }

    private final Type type;
    private final Instant time;
    private final Lsn lsn;
    private final long xid;
    private final String name;
    private final boolean inclusive;

    private RecoveryTarget(Type type, Instant time, Lsn lsn, long xid, String name, boolean inclusive) {
        this.type = type;
        this.time = time;
        this.lsn = lsn;
        this.xid = xid;
        this.name = name;
        this.inclusive = inclusive;
    }

    /** Replay all WAL the archive holds, then promote. */
    public static RecoveryTarget latest() {
        return new RecoveryTarget(Type.LATEST, null, null, 0, null, true);
    }

    /** Stop as soon as the base backup is consistent ({@code recovery_target = 'immediate'}). */
    public static RecoveryTarget immediate() {
        return new RecoveryTarget(Type.IMMEDIATE, null, null, 0, null, true);
    }

    /** Stop at the first transaction that committed after {@code time} (inclusive: commits at exactly {@code time} are kept). */
    public static RecoveryTarget time(Instant time) {
        return new RecoveryTarget(Type.TIME, Objects.requireNonNull(time, "time"), null, 0, null, true);
    }

    /**
     * A time as PostgreSQL or ISO-8601 writes it with an offset: {@code 2026-11-22 14:32:00+01},
     * {@code 2026-11-22T14:32:00Z}, {@code 2026-11-22T14:32:00.250+01:00}.
     */
    public static RecoveryTarget time(String text) {
        return time(parseTime(text));
    }

    /** Stop at a WAL location. */
    public static RecoveryTarget lsn(String lsn) {
        return new RecoveryTarget(Type.LSN, null, Lsn.parse(lsn), 0, null, true);
    }

    /** Stop at the commit of transaction {@code xid}. */
    public static RecoveryTarget xid(long xid) {
        if (xid < 3) {
            throw new ConfigurationException("transaction id must be a normal xid (3 or more), was " + xid);
        }
        return new RecoveryTarget(Type.XID, null, null, xid, null, true);
    }

    /** Stop at a restore point made with {@code pg_create_restore_point(name)}. */
    public static RecoveryTarget name(String name) {
        if (name == null || name.isEmpty() || name.length() > 63) {
            throw new ConfigurationException("restore point name must be 1 to 63 characters");
        }
        return new RecoveryTarget(Type.NAME, null, null, 0, name, true);
    }

    /** Whether the target itself is replayed (default true): {@code recovery_target_inclusive}. */
    public RecoveryTarget inclusive(boolean inclusive) {
        if (type == Type.LATEST || type == Type.IMMEDIATE || type == Type.NAME) {
            throw new ConfigurationException("inclusive applies to time, LSN and xid targets only");
        }
        return new RecoveryTarget(type, time, lsn, xid, name, inclusive);
    }

    public Type type() {
        return type;
    }

    /** The target time, for {@link Type#TIME}. */
    public Instant time() {
        return time;
    }

    /** The target LSN text ("0/16B3748"), for {@link Type#LSN}. */
    public String lsn() {
        return lsn == null ? null : lsn.toString();
    }

    public long xid() {
        return xid;
    }

    public String name() {
        return name;
    }

    public boolean inclusive() {
        return inclusive;
    }

    /** The recovery settings for postgresql.auto.conf (without timeline and action). */
    public java.util.Map<String, String> settings() {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        switch (type) {
            case LATEST -> {
                // no target: replay to the end of the archive
            }
            case IMMEDIATE -> m.put("recovery_target", "immediate");
            case TIME -> m.put("recovery_target_time", formatTime(time));
            case LSN -> m.put("recovery_target_lsn", lsn.toString());
            case XID -> m.put("recovery_target_xid", Long.toString(xid));
            case NAME -> m.put("recovery_target_name", name);
        }
        if (!inclusive) {
            m.put("recovery_target_inclusive", "off");
        }
        return m;
    }

    static String formatTime(Instant t) {
        return PG_TIME.format(t.atOffset(ZoneOffset.UTC));
    }

    static Instant parseTime(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigurationException("no target time given");
        }
        String t = text.strip().replace(' ', 'T');
        // PostgreSQL prints offsets as +01 or +0100; ISO-8601 wants +01:00
        t = t.replaceFirst("([+-]\\d{2})$", "$1:00").replaceFirst("([+-]\\d{2})(\\d{2})$", "$1:$2");
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw new ConfigurationException("'" + text + "' is not a time with an offset (e.g. 2026-11-22 14:32:00+01 or "
                    + "2026-11-22T13:32:00Z)");
        }
    }

    /** For messages: "time 2026-11-22 14:32:00.000000+00:00", "LSN 0/16B3748", "latest". */
    @Override
    public String toString() {
        return switch (type) {
            case LATEST -> "latest";
            case IMMEDIATE -> "immediate (consistency)";
            case TIME -> "time " + formatTime(time);
            case LSN -> "LSN " + lsn;
            case XID -> "xid " + xid;
            case NAME -> "restore point '" + name + "'";
        } + (inclusive ? "" : " (exclusive)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RecoveryTarget r && r.type == type && Objects.equals(r.time, time) && Objects.equals(r.lsn, lsn)
                && r.xid == xid && Objects.equals(r.name, name) && r.inclusive == inclusive;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, time, lsn, xid, name, inclusive);
    }
}
