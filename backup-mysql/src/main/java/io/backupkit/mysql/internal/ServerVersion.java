package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's flavour and version, and every statement or tool that differs between them. All
 * version-dependent choices of the engine are made here, so one unit test covers the switch.
 *
 * @param flavor  MariaDB or MySQL
 * @param major   e.g. 10 (MariaDB 10.11) or 8 (MySQL 8.4)
 * @param minor   e.g. 11
 * @param patch   e.g. 19
 * @param version the server's own version string ({@code SELECT VERSION()})
 */
public record ServerVersion(Flavor flavor, int major, int minor, int patch, String version) {

    /** MariaDB or MySQL (Percona Server and other MySQL builds count as MySQL). */
    public enum Flavor {
        MARIADB("MariaDB"), MYSQL("MySQL");

        private final String displayName;

        Flavor(String displayName) {
            this.displayName = displayName;
        }

        public String displayName() {
            return displayName;
        }
    }

    /** How the backup makes its parallel sessions see one instant. */
    public enum LockMethod {
        /** MariaDB 10.4.1+: {@code BACKUP STAGE START; BACKUP STAGE BLOCK_COMMIT} blocks commits without flushing tables. */
        BACKUP_STAGE,
        /** {@code FLUSH TABLES WITH READ LOCK}: every MySQL and older MariaDB. */
        FLUSH_TABLES_WITH_READ_LOCK,
        /** No lock (no RELOAD privilege, or asked): one session, one transaction, no parallel reads. */
        NONE
    }

    /** Oldest supported servers: MariaDB 10.3 (SHOW CREATE USER, INVISIBLE columns), MySQL 5.7. */
    public static final ServerVersion MIN_MARIADB = new ServerVersion(Flavor.MARIADB, 10, 3, 0, "10.3.0-MariaDB");
    public static final ServerVersion MIN_MYSQL = new ServerVersion(Flavor.MYSQL, 5, 7, 0, "5.7.0");

    private static final Pattern NUMBERS = Pattern.compile("^(\\d+)\\.(\\d+)(?:\\.(\\d+))?");
    /** MariaDB 10.x servers announce themselves to old clients as "5.5.5-10.x.y-MariaDB". */
    private static final Pattern MARIADB_COMPAT_PREFIX = Pattern.compile("^5\\.5\\.5-(\\d+\\.\\d+.*)$");

    /**
     * Parses {@code SELECT VERSION()} (and {@code @@version_comment}, which names the flavour on
     * some builds).
     *
     * @throws ConfigurationException when the string has no version number
     */
    public static ServerVersion parse(String version, String versionComment) {
        if (version == null || version.isBlank()) {
            throw new ConfigurationException("the server reported no version");
        }
        String v = version.strip();
        Matcher compat = MARIADB_COMPAT_PREFIX.matcher(v);
        String numbers = compat.matches() ? compat.group(1) : v;
        Matcher m = NUMBERS.matcher(numbers);
        if (!m.find()) {
            throw new ConfigurationException("cannot read the server version '" + v + "'");
        }
        String lower = (v + " " + (versionComment == null ? "" : versionComment)).toLowerCase(Locale.ROOT);
        Flavor flavor = lower.contains("mariadb") ? Flavor.MARIADB : Flavor.MYSQL;
        return new ServerVersion(flavor, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
                m.group(3) == null ? 0 : Integer.parseInt(m.group(3)), v);
    }

    public boolean isMariaDb() {
        return flavor == Flavor.MARIADB;
    }

    /** Whether this version is at least {@code major.minor.patch} (same flavour assumed). */
    public boolean atLeast(int maj, int min, int pat) {
        if (major != maj) {
            return major > maj;
        }
        if (minor != min) {
            return minor > min;
        }
        return patch >= pat;
    }

    /** "MariaDB 10.11.19" */
    public String describe() {
        return flavor.displayName() + " " + major + "." + minor + "." + patch;
    }

    /**
     * Refuses servers older than the oldest supported one.
     *
     * @throws ConfigurationException naming the server's version and the minimum
     */
    public void checkSupported(String where) {
        ServerVersion min = isMariaDb() ? MIN_MARIADB : MIN_MYSQL;
        if (!atLeast(min.major, min.minor, min.patch)) {
            throw new ConfigurationException("server version too old: " + where + " runs " + flavor.displayName() + " " + version
                    + "; backupkit needs MariaDB " + MIN_MARIADB.major + "." + MIN_MARIADB.minor + " or later, or MySQL "
                    + MIN_MYSQL.major + "." + MIN_MYSQL.minor + " or later");
        }
    }

    /** The lock that makes the backup's sessions start at one instant, given whether locking is allowed. */
    public LockMethod lockMethod(boolean lockAllowed) {
        if (!lockAllowed) {
            return LockMethod.NONE;
        }
        return isMariaDb() && atLeast(10, 4, 1) ? LockMethod.BACKUP_STAGE : LockMethod.FLUSH_TABLES_WITH_READ_LOCK;
    }

    /** The statements that take the lock, in order. */
    public static java.util.List<String> lockStatements(LockMethod method) {
        return switch (method) {
            case BACKUP_STAGE -> java.util.List.of("BACKUP STAGE START", "BACKUP STAGE BLOCK_COMMIT");
            case FLUSH_TABLES_WITH_READ_LOCK -> java.util.List.of("FLUSH TABLES WITH READ LOCK");
            case NONE -> java.util.List.of();
        };
    }

    /** The statement that releases the lock. */
    public static String unlockStatement(LockMethod method) {
        return switch (method) {
            case BACKUP_STAGE -> "BACKUP STAGE END";
            case FLUSH_TABLES_WITH_READ_LOCK -> "UNLOCK TABLES";
            case NONE -> null;
        };
    }

    /** Current binary log file and position: MySQL 8.2 renamed SHOW MASTER STATUS (8.4 removed the old name). */
    public String binlogStatusStatement() {
        return !isMariaDb() && atLeast(8, 2, 0) ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
    }

    /** The expression giving the server's GTID state at the backup's instant. */
    public String gtidExpression() {
        return isMariaDb() ? "@@GLOBAL.gtid_binlog_pos" : "@@GLOBAL.gtid_executed";
    }

    /** Which binary logs the server has: SHOW BINARY LOGS works on every supported version. */
    public String binaryLogsStatement() {
        return "SHOW BINARY LOGS";
    }

    /** Whether {@code CAST(x AS DOUBLE)} exists (MariaDB 10.3+, MySQL 8.0.17+); else {@code x + 0e0} (loses the sign of -0). */
    public boolean hasCastAsDouble() {
        return isMariaDb() || atLeast(8, 0, 17);
    }

    /** Whether columns can be INVISIBLE (MariaDB 10.3+, MySQL 8.0.23+). */
    public boolean hasInvisibleColumns() {
        return isMariaDb() || atLeast(8, 0, 23);
    }

    /** Client tool names for this flavour, preferred first: MariaDB's own tools do not read MySQL 8 binlogs reliably. */
    public java.util.List<String> binlogToolNames() {
        return isMariaDb() ? java.util.List.of("mariadb-binlog", "mysqlbinlog") : java.util.List.of("mysqlbinlog", "mariadb-binlog");
    }

    /** Command-line client names, preferred first. */
    public java.util.List<String> clientToolNames() {
        return isMariaDb() ? java.util.List.of("mariadb", "mysql") : java.util.List.of("mysql", "mariadb");
    }

    /** System databases that are never backed up as databases (users and grants come through SHOW statements). */
    public static boolean isSystemDatabase(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "mysql", "information_schema", "performance_schema", "sys" -> true;
            default -> false;
        };
    }

    /** Accounts the server creates itself; never backed up or restored. */
    public static boolean isSystemAccount(String user, String host) {
        return switch (user) {
            case "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema" -> true;
            default -> false;
        };
    }
}
