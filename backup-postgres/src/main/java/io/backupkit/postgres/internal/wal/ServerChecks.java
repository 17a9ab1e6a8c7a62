package io.backupkit.postgres.internal.wal;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.Lsn;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;

/**
 * What a WAL receiver needs from the server, read over an ordinary connection before any
 * replication connection is tried, so a missing setting gets a message that says what to set
 * instead of the walsender's terse refusal.
 */
public final class ServerChecks {
    /** The oldest major version the receiver supports (pg_replication_slots.wal_status appeared in 13). */
    public static final int MIN_VERSION = 13;

    private ServerChecks() {
    }

    /** Facts about the server and the connecting role. */
    public record Facts(int versionNum, String walLevel, int maxWalSenders, long segmentSize, int blockSize, String role,
                        boolean mayReplicate, Optional<Slot> slot) {
        public int majorVersion() {
            return versionNum / 10000;
        }
    }

    /** A replication slot as pg_replication_slots shows it. */
    public record Slot(String name, String type, boolean active, Integer activePid, Lsn restartLsn, String walStatus) {
    }

    public static Facts read(Connection c, String slotName) throws SQLException {
        int version;
        String walLevel;
        int senders;
        long segSize;
        int blockSize;
        String role;
        boolean mayReplicate;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT current_setting('server_version_num')::int, current_setting('wal_level'),"
                        + " current_setting('max_wal_senders')::int,"
                        + " (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'),"
                        + " current_setting('wal_block_size')::int, current_user,"
                        + " (SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user)")) {
            rs.next();
            version = rs.getInt(1);
            walLevel = rs.getString(2);
            senders = rs.getInt(3);
            segSize = rs.getLong(4);
            blockSize = rs.getInt(5);
            role = rs.getString(6);
            mayReplicate = rs.getBoolean(7);
        }
        Optional<Slot> slot = Optional.empty();
        if (version / 10000 >= MIN_VERSION) {
            try (PreparedStatement ps = c.prepareStatement("SELECT slot_name, slot_type, active, active_pid, restart_lsn::text, wal_status"
                    + " FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slotName);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        String restart = rs.getString(5);
                        int pid = rs.getInt(4);
                        slot = Optional.of(new Slot(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.wasNull() ? null : pid,
                                restart == null ? null : Lsn.parse(restart), rs.getString(6)));
                    }
                }
            }
        }
        return new Facts(version, walLevel, senders, segSize, blockSize, role, mayReplicate, slot);
    }

    /**
     * Refuses a server the receiver cannot stream from, saying what to set.
     *
     * @param server     for messages: host:port
     * @param createSlot whether a missing slot will be created
     */
    public static void check(Facts f, String server, String slotName, boolean createSlot) {
        if (f.majorVersion() < MIN_VERSION) {
            throw new ConfigurationException("the server " + server + " runs PostgreSQL " + f.majorVersion()
                    + "; streaming WAL needs PostgreSQL " + MIN_VERSION + " or newer");
        }
        if ("minimal".equals(f.walLevel())) {
            throw new ConfigurationException("wal_level is 'minimal' on " + server + ", which writes too little WAL to stream or to recover"
                    + " to a point in time: set wal_level = replica (and max_wal_senders of at least 2) in postgresql.conf and restart"
                    + " the server");
        }
        if (f.maxWalSenders() < 1) {
            throw new ConfigurationException("max_wal_senders is 0 on " + server + ", so it accepts no replication connections:"
                    + " set max_wal_senders = 10 (at least 2) in postgresql.conf and restart the server");
        }
        if (!f.mayReplicate()) {
            throw new ConfigurationException("role '" + f.role() + "' may not stream WAL from " + server
                    + ": it needs the REPLICATION attribute (ALTER ROLE " + quoteIdent(f.role()) + " REPLICATION) and a"
                    + " pg_hba.conf line that allows it replication connections (host replication " + f.role() + " <address> scram-sha-256)");
        }
        if (f.slot().isEmpty()) {
            if (!createSlot) {
                throw new ConfigurationException("replication slot '" + slotName + "' does not exist on " + server
                        + ": create it with --create-slot (WalReceiver.builder().createSlot(true)), or run"
                        + " SELECT pg_create_physical_replication_slot('" + slotName + "', true); and set max_slot_wal_keep_size so an"
                        + " outage of the receiver cannot fill the server's disk");
            }
            return;
        }
        Slot s = f.slot().get();
        if (!"physical".equals(s.type())) {
            throw new ConfigurationException("replication slot '" + slotName + "' on " + server + " is a " + s.type()
                    + " slot; WAL streaming needs a physical slot: choose another name, or drop it if nothing uses it");
        }
        if ("lost".equals(s.walStatus())) {
            throw new ConfigurationException("replication slot '" + slotName + "' on " + server + " has lost WAL it should have kept"
                    + " (max_slot_wal_keep_size was exceeded): the archive has a gap. Drop and recreate the slot"
                    + " (SELECT pg_drop_replication_slot('" + slotName + "')), restart the receiver, and take a new base backup");
        }
    }

    /** A hint for the walsender's connection errors, or the server's own message when nothing fits. */
    public static String explainConnectError(String message, String server, String role) {
        if (message == null) {
            return "cannot open a replication connection to " + server;
        }
        if (message.contains("no pg_hba.conf entry for replication connection")
                || message.contains("pg_hba.conf rejects replication connection")) {
            return "the server " + server + " refuses replication connections of role '" + role + "' from this host:"
                    + " add a pg_hba.conf line such as 'host replication " + role + " <this host's address>/32 scram-sha-256'"
                    + " and reload the server (SELECT pg_reload_conf())";
        }
        if (message.contains("must be superuser or replication role") || message.contains("permission denied to start WAL sender")) {
            return "role '" + role + "' may not stream WAL from " + server + ": ALTER ROLE " + quoteIdent(role) + " REPLICATION";
        }
        if (message.contains("number of requested standby connections exceeds max_wal_senders")
                || message.contains("sorry, too many clients")) {
            return "the server " + server + " has no free WAL sender: raise max_wal_senders (now all in use) and restart it";
        }
        return message;
    }

    static String quoteIdent(String s) {
        return s.matches("[a-z_][a-z0-9_]*") ? s : "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
