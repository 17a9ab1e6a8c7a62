package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.Catalog;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a physical backup needs to know about the server, read over an ordinary JDBC session: version,
 * WAL settings, tablespaces, the bootstrap superuser, and the role's privileges (to fail early with
 * the fix rather than halfway through).
 */
public record ClusterInfo(int versionNum, String version, String walLevel, long walSegmentSize, String dataDirectory,
                          List<Tablespace> tablespaces, String superuser, boolean inRecovery, String systemIdentifier,
                          String role, boolean roleIsSuperuser, boolean roleCanReplicate) {

    /** A user tablespace (not pg_default or pg_global). */
    public record Tablespace(long oid, String name, String location) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("oid", oid);
            m.put("name", name);
            m.put("location", location);
            return m;
        }
    }

    public static ClusterInfo read(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            int versionNum;
            String version;
            String walLevel;
            long segSize;
            boolean inRecovery;
            String role;
            boolean superuser;
            boolean replication;
            try (ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int, current_setting('server_version'), "
                    + "current_setting('wal_level'), (SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), "
                    + "pg_is_in_recovery(), r.rolname, r.rolsuper, r.rolreplication FROM pg_roles r WHERE r.rolname = current_user")) {
                rs.next();
                versionNum = rs.getInt(1);
                version = rs.getString(2).split("\\s")[0];
                walLevel = rs.getString(3);
                segSize = rs.getLong(4);
                inRecovery = rs.getBoolean(5);
                role = rs.getString(6);
                superuser = rs.getBoolean(7);
                replication = rs.getBoolean(8);
            }
            String dataDirectory = null;
            try (ResultSet rs = st.executeQuery("SELECT setting FROM pg_settings WHERE name = 'data_directory'")) {
                // pg_settings hides data_directory from roles without pg_read_all_settings
                if (rs.next()) {
                    dataDirectory = rs.getString(1);
                }
            }
            List<Tablespace> tablespaces = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT oid, spcname, pg_tablespace_location(oid) FROM pg_tablespace "
                    + "WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid")) {
                while (rs.next()) {
                    tablespaces.add(new Tablespace(rs.getLong(1), rs.getString(2), rs.getString(3)));
                }
            }
            String bootstrap;
            try (ResultSet rs = st.executeQuery("SELECT rolname FROM pg_roles WHERE oid = 10")) {
                rs.next();
                bootstrap = rs.getString(1);
            }
            String sysid = null;
            if (superuser) {
                // pg_control_system() is superuser-only unless granted; the backup's own pg_control is read otherwise
                try (ResultSet rs = st.executeQuery("SELECT system_identifier FROM pg_control_system()")) {
                    rs.next();
                    sysid = rs.getString(1);
                }
            }
            return new ClusterInfo(versionNum, version, walLevel, segSize, dataDirectory, List.copyOf(tablespaces), bootstrap, inRecovery,
                    sysid, role, superuser, replication);
        }
    }

    /** Fails with what to change when WAL or privileges cannot support a base backup. */
    public void requirePhysicalBackup(String server, boolean needsReplication) {
        BackupFunctions.forVersion(versionNum);
        if ("minimal".equals(walLevel)) {
            throw new ConfigurationException("wal_level is minimal on " + server + ": a base backup needs wal_level = replica "
                    + "(or logical); set it in postgresql.conf and restart the server");
        }
        if (needsReplication && !roleIsSuperuser && !roleCanReplicate) {
            throw new ConfigurationException("role " + role + " may not stream a base backup from " + server
                    + ": it needs the REPLICATION attribute (ALTER ROLE " + Catalog.quoteIdent(role) + " REPLICATION) "
                    + "and a 'replication' line in pg_hba.conf");
        }
    }
}
