package io.backupkit.postgres.internal.wal;

import io.backupkit.postgres.Lsn;
import io.backupkit.postgres.internal.PgConnectionConfig;
import org.postgresql.PGProperty;
import org.postgresql.copy.CopyDual;
import org.postgresql.copy.CopyOperation;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.v3.replication.V3PGReplicationStream;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.ReplicationType;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * A physical replication connection (walsender protocol) through pgjdbc.
 *
 * <p><b>Why it is configured this way.</b> pgjdbc 42.7.11–42.7.14 release a COPY when a read
 * times out (pgjdbc issues 4328/4354): a replication stream whose socket read timeout fires — the
 * driver's own status-interval wake-up, or any {@code socketTimeout > 0} — is dead afterwards
 * ("Tried to write to an inactive copy operation"), and a timeout in the middle of a message
 * desynchronizes the stream. So this connection (1) always runs with {@code socketTimeout=0},
 * whatever the URL says, (2) starts streams with a status interval of 0, so the driver never
 * shortens the socket timeout, (3) reads only with the non-blocking {@code readPending()} and
 * sends status updates itself, and (4) relies on TCP keepalive ({@link KeepAliveSocketFactory})
 * to notice a dead peer. The stream is started through the driver's copy API rather than
 * {@code ReplicationStreamBuilder} because that builder cannot ask for a timeline
 * ({@code START_REPLICATION … TIMELINE n}), which following a timeline switch needs.
 */
public final class ReplicationConnection implements AutoCloseable {
    private final Connection connection;

    private ReplicationConnection(Connection connection) {
        this.connection = connection;
    }

    /** The properties of a physical replication connection (see the class comment for why). */
    static Properties properties(PgConnectionConfig config, String applicationName, boolean keepAliveFactory) {
        Properties p = config.jdbcProperties(applicationName);
        for (var e : config.params().entrySet()) {
            p.setProperty(e.getKey(), e.getValue());
        }
        PGProperty.REPLICATION.set(p, "true");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "9.4");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        // never > 0 on a replication connection with pgjdbc 42.7.11–42.7.14, even if the URL asks for it
        PGProperty.SOCKET_TIMEOUT.set(p, 0);
        PGProperty.TCP_KEEP_ALIVE.set(p, true);
        if (keepAliveFactory) {
            PGProperty.SOCKET_FACTORY.set(p, KeepAliveSocketFactory.class.getName());
        }
        return p;
    }

    /** The base JDBC URL without query parameters (they travel as properties). */
    static String url(PgConnectionConfig config) {
        return "jdbc:postgresql://" + (config.host().contains(":") ? "[" + config.host() + "]" : config.host()) + ":" + config.port()
                + "/" + java.net.URLEncoder.encode(config.database(), StandardCharsets.UTF_8).replace("+", "%20");
    }

    public static ReplicationConnection open(PgConnectionConfig config, String applicationName) throws SQLException {
        try {
            return new ReplicationConnection(DriverManager.getConnection(url(config), properties(config, applicationName, true)));
        } catch (SQLException e) {
            if (e.getMessage() != null && e.getMessage().contains(KeepAliveSocketFactory.class.getName())) {
                // the driver's class loader cannot see the factory (some containers): plain sockets, system keepalive timers
                return new ReplicationConnection(DriverManager.getConnection(url(config), properties(config, applicationName, false)));
            }
            throw e;
        }
    }

    /** IDENTIFY_SYSTEM's answer. */
    public record SystemIdentity(long systemId, int timeline, Lsn flushPosition) {
    }

    public SystemIdentity identifySystem() throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new SQLException("IDENTIFY_SYSTEM returned no row");
            }
            return new SystemIdentity(Long.parseUnsignedLong(rs.getString(1)), rs.getInt(2), Lsn.parse(rs.getString(3)));
        }
    }

    /** The content of timeline {@code timeline}'s history file, from the server. */
    public byte[] timelineHistory(int timeline) throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("TIMELINE_HISTORY " + timeline)) {
            if (!rs.next()) {
                throw new SQLException("TIMELINE_HISTORY " + timeline + " returned no row");
            }
            // the server sends the file's bytes as they are (not bytea-escaped): read them as text
            return rs.getString(2).getBytes(StandardCharsets.UTF_8);
        }
    }

    /**
     * Starts streaming {@code timeline} from {@code start} on {@code slot}. The returned stream has no
     * automatic status updates and no automatic flush: the caller reads with {@code readPending()},
     * sets the flush position to what is durable, and calls {@code forceUpdateStatus()}.
     */
    public PGReplicationStream startPhysical(String slot, Lsn start, int timeline) throws SQLException {
        String sql = "START_REPLICATION SLOT " + quoteSlot(slot) + " PHYSICAL " + start + " TIMELINE " + timeline;
        CopyOperation op = ((BaseConnection) connection).getQueryExecutor().startCopy(sql, true);
        if (!(op instanceof CopyDual dual)) {
            if (op != null) {
                op.cancelCopy();
            }
            throw new SQLException("the server did not start streaming for " + sql);
        }
        PGReplicationStream stream = new V3PGReplicationStream(dual, LogSequenceNumber.valueOf(start.value()), 0, false,
                ReplicationType.PHYSICAL);
        stream.setFlushedLSN(LogSequenceNumber.valueOf(start.value()));
        stream.setAppliedLSN(LogSequenceNumber.valueOf(start.value()));
        return stream;
    }

    /** Slot names are lower-case letters, digits and underscores (PostgreSQL's own rule). */
    static String quoteSlot(String slot) {
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("invalid replication slot name '" + slot + "'");
        }
        return slot;
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException | RuntimeException ignored) {
            // the stream may already be broken
        }
    }
}
