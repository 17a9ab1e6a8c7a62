package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Why the receiver avoids pgjdbc's blocking replication read: with pgjdbc 42.7.11–42.7.14 a
 * physical stream started the usual way (status interval, blocking {@code read()}) dies as soon as
 * the server is idle for one status interval — the driver's socket-timeout wake-up releases the COPY
 * ("Tried to write to an inactive copy operation" or a connection failure). If this test starts
 * failing on a newer driver, the driver is fixed and ReplicationConnection's workaround may go.
 * {@code WalReceiverIT#socketTimeoutInTheUrl_doesNotBreakAnIdleStream} shows the receiver's way survives.
 */
class PgjdbcReplicationTimeoutIT {

    static boolean affectedDriver() {
        String v = org.postgresql.util.DriverInfo.DRIVER_VERSION;
        return v.matches("42\\.7\\.1[1-4](\\D.*)?");
    }

    @Test
    void theDriversOwnBlockingRead_breaksOnAnIdleStream_inTheAffectedVersions() throws Exception {
        assumeTrue(affectedDriver(), "pgjdbc " + org.postgresql.util.DriverInfo.DRIVER_VERSION + " is not in 42.7.11-42.7.14");
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("wal_level", "replica").start()) {
            pg.execute("postgres", "SELECT pg_create_physical_replication_slot('naive', true)");
            Properties p = new Properties();
            p.setProperty("user", pg.user());
            p.setProperty("password", pg.password());
            PGProperty.REPLICATION.set(p, "true");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "9.4");
            PGProperty.PREFER_QUERY_MODE.set(p, "simple");
            PGProperty.SOCKET_TIMEOUT.set(p, 5);
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), p)) {
                LogSequenceNumber start = LogSequenceNumber.valueOf(pg.queryForString("postgres", "SELECT restart_lsn FROM pg_replication_slots"));
                PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().physical()
                        .withSlotName("naive").withStartPosition(start).withStatusInterval(200, TimeUnit.MILLISECONDS).start();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                SQLException broke = assertThrows(SQLException.class, () -> {
                    // read what there is, then idle: the first status-interval timeout kills the stream
                    while (System.nanoTime() < deadline) {
                        stream.read();
                    }
                });
                assertTrue(broke.getMessage() != null, String.valueOf(broke));
            }
        }
    }
}
