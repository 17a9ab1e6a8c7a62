package io.backupkit.mysql;

import io.backupkit.ConfigurationException;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a point-in-time restore stops replaying the binary log on top of a snapshot.
 *
 * <ul>
 *   <li>{@link #time(Instant)}: the state at that time. Binary log events carry whole seconds, so a
 *       time with a fraction counts up to the end of its second: every transaction that committed in
 *       an earlier second is in, every one that began in a later second is out. Between two commits
 *       in one second, use a position.</li>
 *   <li>{@link #position(BinlogPosition)}: the state at that file and offset ({@code SHOW MASTER
 *       STATUS} prints such positions); the event starting there is not applied.</li>
 *   <li>{@link #latest()}: every archived event.</li>
 * </ul>
 *
 * <pre>{@code
 * MySqlTarget.builder().url("mariadb://root@db2/shop").password(pw)
 *         .recoverTo(BinlogRecoveryTarget.time(Instant.parse("2026-11-30T09:15:00Z")))
 *         .build();
 * }</pre>
 */
public final class BinlogRecoveryTarget {
    /** What the target names. */
    public enum Kind { TIME, POSITION, LATEST }

    private final Kind kind;
    private final Instant time;
    private final BinlogPosition position;

    private BinlogRecoveryTarget(Kind kind, Instant time, BinlogPosition position) {
        this.kind = kind;
        this.time = time;
        this.position = position;
    }

    public static BinlogRecoveryTarget time(Instant time) {
        return new BinlogRecoveryTarget(Kind.TIME, Objects.requireNonNull(time, "time"), null);
    }

    public static BinlogRecoveryTarget position(BinlogPosition position) {
        return new BinlogRecoveryTarget(Kind.POSITION, null, Objects.requireNonNull(position, "position"));
    }

    public static BinlogRecoveryTarget latest() {
        return new BinlogRecoveryTarget(Kind.LATEST, null, null);
    }

    /** Parses "latest", a FILE:OFFSET position, or an ISO-8601 instant (2026-11-30T09:15:00Z). */
    public static BinlogRecoveryTarget parse(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigurationException("a recovery target is 'latest', FILE:OFFSET or an ISO-8601 time");
        }
        if (text.equalsIgnoreCase("latest")) {
            return latest();
        }
        try {
            return time(Instant.parse(text));
        } catch (java.time.format.DateTimeParseException e) {
            return position(BinlogPosition.parse(text));
        }
    }

    public Kind kind() {
        return kind;
    }

    /** The time of a {@link Kind#TIME} target, else null. */
    public Instant time() {
        return time;
    }

    /** The position of a {@link Kind#POSITION} target, else null. */
    public BinlogPosition position() {
        return position;
    }

    /** The time up to which events are applied: {@link #time()} rounded up to a whole second. */
    public Instant stopTime() {
        if (time == null) {
            return null;
        }
        Instant whole = Instant.ofEpochSecond(time.getEpochSecond());
        return whole.equals(time) ? whole : whole.plusSeconds(1);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case TIME -> "time " + time;
            case POSITION -> "position " + position;
            case LATEST -> "the latest archived event";
        };
    }
}
