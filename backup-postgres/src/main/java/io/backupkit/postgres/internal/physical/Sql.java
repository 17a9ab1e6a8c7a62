package io.backupkit.postgres.internal.physical;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/** Small SQL helpers shared by the two base backup methods. */
final class Sql {
    private static final Logger LOG = LoggerFactory.getLogger(Sql.class);

    private Sql() {
    }

    static long clusterBytes(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT sum(pg_database_size(oid))::bigint FROM pg_database "
                + "WHERE datallowconn")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            // pg_database_size needs CONNECT on each database: without it, no estimate
            return -1;
        }
    }

    /**
     * Creates a temporary physical replication slot that reserves WAL from now on, for as long as this
     * session lives, so the server cannot recycle the WAL the backup copies at its end. Returns the
     * slot name, or null (with a warning) when the role may not create slots or none are free.
     */
    static String reserveWal(Connection c) throws SQLException {
        byte[] random = new byte[6];
        new SecureRandom().nextBytes(random);
        String name = "backupkit_" + HexFormat.of().formatHex(random);
        try (Statement st = c.createStatement()) {
            st.execute("SET statement_timeout = 0");
        }
        c.setAutoCommit(true);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true, true)")) {
            ps.setString(1, name);
            ps.execute();
            return name;
        } catch (SQLException e) {
            LOG.warn("cannot reserve WAL with a temporary replication slot ({}); the backup fails if the server recycles WAL it "
                    + "needs before the end", e.getMessage());
            return null;
        }
    }
}
