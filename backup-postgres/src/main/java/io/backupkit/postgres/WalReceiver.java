package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.PgConnectionConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * Streams a PostgreSQL cluster's WAL into the repository over the replication protocol, on a
 * physical replication slot, inside the calling JVM: the database needs no
 * {@code archive_command}. Complete segments are stored as they fill; the segment being written is
 * stored as a partial segment every {@link Builder#partialInterval} (default 5 s), so the recovery
 * point is seconds behind. The flush position reported to the server — which lets the server drop
 * WAL from the slot — is only ever what the repository has durably stored. Follows timeline
 * switches (storing the history files), reconnects after server restarts and resumes after its
 * own restarts from what the repository holds, without gaps as long as the slot kept the WAL.
 *
 * <pre>{@code
 * try (WalReceiver receiver = WalReceiver.builder()
 *         .repository(repo)
 *         .url("postgresql://db.internal:5432/postgres")
 *         .user("backup").password(System.getenv("PGPASSWORD").toCharArray())
 *         .slot("backupkit").createSlot(true)
 *         .build()
 *         .start()) {                          // checks the server; throws ConfigurationException saying what to set
 *     ...                                      // the service runs; receiver.status() for health checks
 * }                                            // close() stores what was received and stops
 * }</pre>
 *
 * <p>Server requirements: {@code wal_level = replica} (or logical), {@code max_wal_senders ≥ 2}, a
 * role with the REPLICATION attribute and a {@code host replication …} line in pg_hba.conf. Set
 * {@code max_slot_wal_keep_size} so an outage of the receiver cannot fill the server's disk.
 */
public final class WalReceiver implements AutoCloseable {
    private final WalStreamer streamer;
    private Thread thread;

    private WalReceiver(Builder b) {
        this.streamer = new WalStreamer(b);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks the server (wal_level, privileges, slot), records the cluster in the repository and
     * starts streaming on a background thread.
     *
     * @return this receiver
     * @throws ConfigurationException when the server or the repository is not set up for it (the
     *                                message says what to set)
     * @throws BackupException        when the server or repository cannot be reached
     */
    public synchronized WalReceiver start() {
        if (thread != null) {
            throw new IllegalStateException("this WalReceiver was started already");
        }
        streamer.prepare();
        thread = new Thread(streamer, "backupkit-wal-receiver");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /**
     * Stops: stores what was received but not yet stored (a partial segment), reports it to the
     * server, and closes the connection. Waits at most {@link Builder#stopTimeout}. Idempotent.
     */
    public void stop() {
        Thread t;
        synchronized (this) {
            t = thread;
        }
        streamer.stop();
        if (t != null) {
            try {
                t.join(streamer.stopTimeout().toMillis() + 5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        streamer.shutdown();
    }

    @Override
    public void close() {
        stop();
    }

    /** A snapshot of what the receiver is doing, for health checks and tests. */
    public Status status() {
        return streamer.status();
    }

    /**
     * Waits until WAL up to {@code lsn} is durably stored (and acknowledged to the server).
     *
     * @return whether it was stored within {@code timeout}
     */
    public boolean awaitStored(Lsn lsn, Duration timeout) {
        return streamer.awaitStored(lsn, timeout);
    }

    /** What the receiver is doing. */
    public enum State { NEW, STREAMING, RECONNECTING, STOPPED }

    /**
     * The receiver's state.
     *
     * @param state           what it is doing
     * @param systemId        the cluster (0 before the first connection)
     * @param timeline        the timeline being streamed
     * @param received        WAL received up to here
     * @param stored          WAL durably stored (and reported to the server as flushed) up to here
     * @param segmentsStored  complete segments stored since start
     * @param partialsStored  partial segments stored since start
     * @param bytesReceived   WAL bytes received since start
     * @param reconnects      how many times the connection was opened again after a failure
     * @param lastError       the last failure's message, or null
     * @param lastStoredAt    when something was last stored, or null
     */
    public record Status(State state, long systemId, int timeline, Lsn received, Lsn stored, long segmentsStored, long partialsStored,
                         long bytesReceived, int reconnects, String lastError, Instant lastStoredAt) {
    }

    /** Callbacks from the receiver's threads; keep them quick. Exceptions they throw are logged and ignored. */
    public interface Listener {
        /** A segment ({@code partial} false) or a partial segment is durable; WAL up to {@code storedUpTo} is acknowledged. */
        default void stored(String walFileName, boolean partial, Lsn storedUpTo) {
        }

        /** Streaming moved to another timeline (its history file is stored). */
        default void timelineChanged(int from, int to, Lsn at) {
        }

        /** A failure; the receiver retries after a pause. */
        default void failed(Exception error) {
        }
    }

    /** Configures a {@link WalReceiver}. */
    public static final class Builder {
        Repository repository;
        WalArchive archive;
        String url;
        String user;
        char[] password;
        String slot;
        boolean createSlot;
        boolean allowNewCluster;
        Duration partialInterval = Duration.ofSeconds(5);
        Duration statusInterval = Duration.ofSeconds(10);
        Duration stopTimeout = Duration.ofSeconds(60);
        Duration reconnectMin = Duration.ofSeconds(1);
        Duration reconnectMax = Duration.ofSeconds(30);
        int uploadParallelism = 2;
        int maxSegmentsInFlight = 4;
        String applicationName = "backupkit-wal-receive";
        Listener listener = new Listener() {
        };

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** The archive to store into (wins over {@link #repository}); use to share one with other code. */
        public Builder walArchive(WalArchive archive) {
            this.archive = archive;
            return this;
        }

        /** Any database of the cluster: {@code jdbc:postgresql://host:port/db} or {@code postgresql://user@host/db}. */
        public Builder url(String url) {
            this.url = url;
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** The array is copied; wipe yours afterwards. */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** The physical replication slot (lower-case letters, digits, underscores). Required. */
        public Builder slot(String slot) {
            this.slot = slot;
            return this;
        }

        /** Creates the slot (reserving WAL at once) when it does not exist. */
        public Builder createSlot(boolean createSlot) {
            this.createSlot = createSlot;
            return this;
        }

        /** Lets the receiver record a cluster when the repository archives another one already. */
        public Builder allowNewCluster(boolean allow) {
            this.allowNewCluster = allow;
            return this;
        }

        /**
         * How often the segment being received is stored as a partial segment when it has new WAL
         * (default 5 s): with the time one store takes, the recovery point objective. At least 100 ms.
         */
        public Builder partialInterval(Duration interval) {
            if (interval.toMillis() < 100) {
                throw new ConfigurationException("partial interval must be at least 100 ms, was " + interval);
            }
            this.partialInterval = interval;
            return this;
        }

        /** How often a status update is sent to the server when nothing else is (default 10 s; keep below wal_sender_timeout). */
        public Builder statusInterval(Duration interval) {
            if (interval.toMillis() < 100) {
                throw new ConfigurationException("status interval must be at least 100 ms, was " + interval);
            }
            this.statusInterval = interval;
            return this;
        }

        /** How long {@link #stop()} waits for the last uploads (default 60 s). */
        public Builder stopTimeout(Duration timeout) {
            this.stopTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Pause before reconnecting: starts at {@code min}, doubles up to {@code max} (default 1 s – 30 s). */
        public Builder reconnectDelay(Duration min, Duration max) {
            this.reconnectMin = min;
            this.reconnectMax = max;
            return this;
        }

        /** Segments stored in parallel (default 2). */
        public Builder uploadParallelism(int n) {
            if (n < 1) {
                throw new ConfigurationException("upload parallelism must be at least 1, was " + n);
            }
            this.uploadParallelism = n;
            return this;
        }

        /** Received segments waiting for storage before the receiver stops reading (default 4); bounds memory. */
        public Builder maxSegmentsInFlight(int n) {
            if (n < 1) {
                throw new ConfigurationException("segments in flight must be at least 1, was " + n);
            }
            this.maxSegmentsInFlight = n;
            return this;
        }

        public Builder applicationName(String name) {
            this.applicationName = name;
            return this;
        }

        public Builder listener(Listener listener) {
            this.listener = Objects.requireNonNull(listener);
            return this;
        }

        public WalReceiver build() {
            if (repository == null && archive == null) {
                throw new ConfigurationException("a WalReceiver needs a repository");
            }
            if (url == null) {
                throw new ConfigurationException("a WalReceiver needs the server's url (any database of the cluster)");
            }
            if (slot == null || !slot.matches("[a-z0-9_]{1,63}")) {
                throw new ConfigurationException("a WalReceiver needs a physical replication slot name of lower-case letters,"
                        + " digits and underscores (at most 63), was " + (slot == null ? "none" : "'" + slot + "'"));
            }
            PgConnectionConfig.parse(url);
            return new WalReceiver(this);
        }
    }
}
