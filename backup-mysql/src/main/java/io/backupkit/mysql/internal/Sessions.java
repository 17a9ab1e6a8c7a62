package io.backupkit.mysql.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Opens sessions with the settings every backupkit session uses, and turns driver errors into clear ones. */
public final class Sessions {
    /** ER_ACCESS_DENIED_ERROR: wrong user or password. */
    public static final int ACCESS_DENIED = 1045;
    /** ER_DBACCESS_DENIED_ERROR: no privilege on the database. */
    public static final int DB_ACCESS_DENIED = 1044;
    /** ER_BAD_DB_ERROR: unknown database. */
    public static final int BAD_DB = 1049;
    /** ER_SPECIFIC_ACCESS_DENIED_ERROR: a privilege such as RELOAD is missing. */
    public static final int SPECIFIC_ACCESS_DENIED = 1227;
    /** ER_TABLE_DEF_CHANGED: DDL ran on a table after the snapshot began. */
    public static final int TABLE_DEF_CHANGED = 1412;
    /** ER_LOCK_WAIT_TIMEOUT. */
    public static final int LOCK_WAIT_TIMEOUT = 1205;
    /** ER_NO_SUCH_TABLE. */
    public static final int NO_SUCH_TABLE = 1146;

    private Sessions() {
    }

    /**
     * A new session: results as raw bytes (no character set conversion), UTF-8 statements, UTC
     * session time zone, and bounded metadata-lock waits so a backup never queues behind DDL for long.
     *
     * @throws ConfigurationException for wrong credentials or an unknown database, naming them
     * @throws io.backupkit.EngineException when the server cannot be reached
     */
    public static Connection open(MySqlConnectionConfig cfg, String purpose, int lockWaitSeconds) {
        Connection c;
        try {
            c = cfg.connect(purpose);
        } catch (SQLException e) {
            throw connectError(cfg, e);
        }
        try (Statement st = c.createStatement()) {
            st.execute("SET NAMES utf8mb4");
            st.execute("SET SESSION character_set_results = binary");
            st.execute("SET SESSION time_zone = '+00:00'");
            st.execute("SET SESSION lock_wait_timeout = " + Math.max(1, lockWaitSeconds));
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw new EngineException("cannot set up a session on " + cfg.server() + ": " + e.getMessage(), e);
        }
    }

    /** The error for a failed connection attempt. */
    public static BackupException connectError(MySqlConnectionConfig cfg, SQLException e) {
        int code = errorCode(e);
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        if (code == ACCESS_DENIED) {
            return new ConfigurationException("authentication failed for user " + cfg.user() + " on " + cfg.server()
                    + ": access denied (wrong user or password, or the account may not connect from this host)", e);
        }
        if (code == BAD_DB) {
            return new ConfigurationException("database " + cfg.database() + " does not exist on " + cfg.server(), e);
        }
        if (code == DB_ACCESS_DENIED) {
            return new ConfigurationException("user " + cfg.user() + " has no access to database " + cfg.database() + " on " + cfg.server(), e);
        }
        if (hasCause(e, ConnectException.class)) {
            return new io.backupkit.EngineException("cannot connect to " + cfg.server() + ": connection refused "
                    + "(is the MySQL/MariaDB server running and listening on that address and port?)", e);
        }
        if (hasCause(e, UnknownHostException.class)) {
            return new ConfigurationException("cannot connect to " + cfg.server() + ": unknown host " + cfg.host(), e);
        }
        return new io.backupkit.EngineException("cannot connect to " + cfg.server() + ": " + msg, e);
    }

    /** The MySQL error number of {@code e} or of a cause. */
    public static int errorCode(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && s.getErrorCode() != 0) {
                return s.getErrorCode();
            }
        }
        return 0;
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** Kills a session's statement ({@code KILL QUERY}, sent on a separate connection by Connector/J), for {@code WorkerPool.onStopSession}. */
    public static void cancel(Connection c) throws SQLException {
        c.unwrap(org.mariadb.jdbc.Connection.class).cancelCurrentQuery();
    }

    public static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // closing after a failure: the first error is the one to report
        }
    }

    /** Executes one statement. */
    public static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Rows of a query as strings (UTF-8), for metadata. */
    public static List<List<String>> query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        }
    }

    /** The first column of the first row, or null. */
    public static String queryForString(Connection c, String sql) throws SQLException {
        List<List<String>> rows = query(c, sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /** An identifier quoted with backticks. */
    public static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    /** A string literal (for SHOW … LIKE and WHERE clauses on metadata). */
    public static String literal(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '\'' -> sb.append("''");
                case '\\' -> sb.append("\\\\");
                case '\0' -> sb.append("\\0");
                default -> sb.append(ch);
            }
        }
        return sb.append('\'').toString();
    }
}
