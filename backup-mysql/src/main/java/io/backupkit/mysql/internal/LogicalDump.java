package io.backupkit.mysql.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.internal.WorkerPool;
import io.backupkit.spi.BackupContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A consistent, parallel logical backup of one database or a whole server, the way mydumper does
 * it: one lock for an instant ({@code BACKUP STAGE BLOCK_COMMIT} on MariaDB 10.4+, else
 * {@code FLUSH TABLES WITH READ LOCK}), N sessions each {@code START TRANSACTION WITH CONSISTENT
 * SNAPSHOT} inside it, the binary log coordinates and the whole schema read while it is held, then
 * the lock released and the tables read in parallel, each into its own stream. Non-transactional
 * tables (MyISAM, Aria) are read first while the lock is still held when asked, since no snapshot
 * covers them. The tables are read on a {@link WorkerPool}: a failing table or an interrupt stops
 * every reading session before the backup returns.
 */
public final class LogicalDump {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalDump.class);
    /** Metadata format of MySQL snapshots. */
    public static final int FORMAT = 1;

    private final MySqlConnectionConfig cfg;
    private final DumpOptions options;

    /**
     * What to dump and how.
     *
     * @param jobs                 parallel sessions (1 = one session; 0 = the backup's parallelism)
     * @param lock                 take the instant lock (needs RELOAD); without it one session reads everything
     * @param lockNonTransactional keep the lock until non-transactional tables are read (consistent MyISAM)
     * @param users                also dump user accounts and grants
     * @param lockWait             how long a session waits for a lock (the global lock, a table's metadata lock)
     */
    public record DumpOptions(int jobs, boolean lock, boolean lockNonTransactional, boolean users, Duration lockWait) {
    }

    public LogicalDump(MySqlConnectionConfig cfg, DumpOptions options) {
        this.cfg = cfg;
        this.options = options;
    }

    /** Reads the server's version through an open session. */
    public static ServerVersion version(Connection c) throws SQLException {
        List<List<String>> r = Sessions.query(c, "SELECT VERSION(), @@version_comment");
        return ServerVersion.parse(r.get(0).get(0), r.get(0).get(1));
    }

    public void run(BackupContext ctx) {
        int lockWaitSeconds = (int) Math.max(1, Math.min(Integer.MAX_VALUE, options.lockWait().toSeconds()));
        Connection coord = Sessions.open(cfg, "backup coordinator", lockWaitSeconds);
        List<Connection> workers = new ArrayList<>();
        ServerVersion.LockMethod lockMethod = ServerVersion.LockMethod.NONE;
        AtomicBoolean locked = new AtomicBoolean();
        try {
            ServerVersion v = version(coord);
            v.checkSupported(cfg.server());
            SchemaReader reader = new SchemaReader(coord, v);
            List<String> databases;
            if (cfg.database() != null) {
                if (!reader.databaseExists(cfg.database())) {
                    throw new ConfigurationException("database " + cfg.database() + " does not exist on " + cfg.server());
                }
                databases = List.of(cfg.database());
            } else {
                databases = reader.databases();
            }
            boolean binlogOn = "1".equals(Sessions.queryForString(coord, "SELECT @@GLOBAL.log_bin"));
            String serverId = Sessions.queryForString(coord, "SELECT @@GLOBAL.server_id");
            String serverUuid = v.isMariaDb() ? null : Sessions.queryForString(coord, "SELECT @@GLOBAL.server_uuid");

            lockMethod = v.lockMethod(options.lock());
            String consistencyNote = null;
            if (lockMethod != ServerVersion.LockMethod.NONE) {
                try {
                    for (String s : ServerVersion.lockStatements(lockMethod)) {
                        Sessions.execute(coord, s);
                        locked.set(true);
                    }
                } catch (SQLException e) {
                    if (locked.getAndSet(false)) {
                        unlockQuietly(coord, lockMethod);
                    }
                    if (Sessions.errorCode(e) == Sessions.SPECIFIC_ACCESS_DENIED) {
                        consistencyNote = "the backup user lacks the RELOAD privilege, so no lock could be taken: "
                                + "one session read every table from one snapshot (grant RELOAD for parallel reads)";
                        LOG.warn("{} on {}", consistencyNote, cfg.server());
                        lockMethod = ServerVersion.LockMethod.NONE;
                    } else if (Sessions.errorCode(e) == Sessions.LOCK_WAIT_TIMEOUT) {
                        throw new EngineException("could not take the backup lock (" + String.join("; ", ServerVersion.lockStatements(lockMethod))
                                + ") on " + cfg.server() + " within " + lockWaitSeconds + " s: a long-running statement or "
                                + "DDL holds it; retry later or raise lockWaitTimeout", e);
                    } else {
                        throw new EngineException("could not take the backup lock on " + cfg.server() + ": " + e.getMessage(), e);
                    }
                }
            }
            int sessions = lockMethod == ServerVersion.LockMethod.NONE ? 1
                    : Math.max(1, options.jobs() > 0 ? options.jobs() : ctx.parallelism());
            Instant snapshotTime = Instant.now();
            for (int i = 0; i < sessions; i++) {
                Connection w = Sessions.open(cfg, "backup worker " + (i + 1), lockWaitSeconds);
                workers.add(w);
                Sessions.execute(w, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                Sessions.execute(w, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
            }
            Map<String, Object> binlog = binlogOn ? binlogCoordinates(coord, workers.get(0), v, lockMethod) : null;

            List<SchemaReader.DatabaseSchema> schemas = new ArrayList<>();
            for (String db : databases) {
                schemas.add(reader.read(db));
            }
            List<UserAccounts.Account> accounts = options.users() ? UserAccounts.read(coord, v) : null;

            List<TableInfo> tables = new ArrayList<>();
            schemas.forEach(s -> tables.addAll(s.tables()));
            List<TableInfo> nonTransactional = tables.stream().filter(t -> !t.transactional()).toList();
            boolean holdForNonTransactional = locked.get() && options.lockNonTransactional() && !nonTransactional.isEmpty();
            if (!holdForNonTransactional && locked.getAndSet(false)) {
                unlock(coord, lockMethod);
            }

            for (SchemaReader.DatabaseSchema s : schemas) {
                writeJsonLines(ctx, StreamNames.schema(s.name()), s.objects());
            }
            if (accounts != null) {
                writeJsonLines(ctx, StreamNames.USERS, accounts);
            }
            ctx.expectedBytes(tables.stream().mapToLong(TableInfo::estimatedBytes).sum());

            // non-transactional tables first (while the lock holds them still), then the biggest first
            List<TableInfo> order = new ArrayList<>(tables);
            order.sort(Comparator.comparing((TableInfo t) -> holdForNonTransactional && !t.transactional() ? 0 : 1)
                    .thenComparing(Comparator.comparingLong(TableInfo::estimatedBytes).reversed()));
            CountDownLatch nonTransactionalDone = new CountDownLatch(holdForNonTransactional ? nonTransactional.size() : 0);
            Map<String, TableDumper.Result> results = new java.util.concurrent.ConcurrentHashMap<>();
            // a failing table or an interrupt stops every worker's session, so that none goes on reading (or waiting
            // for a table lock) after this returns; each worker thread takes one of the snapshot sessions and keeps it
            WorkerPool<TableInfo> pool = new WorkerPool<>("backup of " + cfg.describe(), "backupkit-mysql-dump",
                    new ConcurrentLinkedQueue<>(order));
            ConcurrentLinkedQueue<Connection> free = new ConcurrentLinkedQueue<>(workers);
            for (Connection w : workers) {
                pool.onStopSession(w, Sessions::cancel);
            }
            Map<Thread, Connection> sessionOf = new java.util.concurrent.ConcurrentHashMap<>();
            ServerVersion.LockMethod held = lockMethod;
            pool.execute(sessions, t -> {
                Connection w = sessionOf.computeIfAbsent(Thread.currentThread(), x -> free.poll());
                try {
                    results.put(t.qualifiedName(), dumpTable(ctx, w, v, t));
                    if (holdForNonTransactional && !t.transactional()) {
                        nonTransactionalDone.countDown();
                        // the last non-transactional table is read: the other sessions' snapshots cover the rest
                        if (nonTransactionalDone.getCount() == 0 && locked.compareAndSet(true, false)) {
                            unlock(coord, held);
                        }
                    }
                } catch (BackupException e) {
                    throw e;
                } catch (IOException | SQLException | RuntimeException e) {
                    throw asBackupException(e);
                }
            });
            for (Connection w : workers) {
                Sessions.execute(w, "COMMIT");
            }

            ctx.putMetadata("format", FORMAT);
            ctx.putMetadata("flavor", v.flavor().displayName());
            ctx.putMetadata("serverVersion", v.version());
            ctx.putMetadata("server", cfg.server());
            ctx.putMetadata("scope", cfg.database() == null ? "server" : "database");
            ctx.putMetadata("databases", databases);
            ctx.putMetadata("consistency", switch (lockMethod) {
                case BACKUP_STAGE -> "backup-stage";
                case FLUSH_TABLES_WITH_READ_LOCK -> "global-read-lock";
                case NONE -> "single-session";
            });
            if (consistencyNote != null) {
                ctx.putMetadata("consistencyNote", consistencyNote);
            }
            ctx.putMetadata("nonTransactionalLocked", holdForNonTransactional);
            ctx.putMetadata("snapshotTime", snapshotTime.toString());
            ctx.putMetadata("serverId", serverId);
            if (serverUuid != null) {
                ctx.putMetadata("serverUuid", serverUuid);
            }
            if (binlog != null) {
                ctx.putMetadata("binlog", binlog);
                // the same as plain values, for listings that show only those
                ctx.putMetadata("binlogPosition", binlog.get("file") + ":" + binlog.get("position"));
                if (binlog.get("gtid") != null) {
                    ctx.putMetadata("gtid", binlog.get("gtid"));
                }
            }
            ctx.putMetadata("users", accounts != null);
            List<Map<String, Object>> tableMeta = new ArrayList<>();
            for (TableInfo t : tables) {
                TableDumper.Result r = results.get(t.qualifiedName());
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("database", t.database());
                m.put("name", t.name());
                m.put("engine", t.engine());
                m.put("transactional", t.transactional());
                m.put("rows", r.rows());
                m.put("bytes", r.bytes());
                m.put("stream", StreamNames.data(t.database(), t.name()));
                m.put("primaryKey", t.primaryKey());
                if (t.primaryKey().isEmpty()) {
                    m.put("rowsDigest", r.rowsDigest());
                }
                m.put("columns", t.columns());
                tableMeta.add(m);
            }
            ctx.putMetadata("tables", tableMeta);
            Map<String, Object> objects = new LinkedHashMap<>();
            for (SchemaReader.DatabaseSchema s : schemas) {
                Map<String, Long> counts = new LinkedHashMap<>();
                for (SchemaObject.Kind k : SchemaObject.Kind.values()) {
                    if (k != SchemaObject.Kind.DATABASE && s.count(k) > 0) {
                        counts.put(k.label() + "s", s.count(k));
                    }
                }
                objects.put(s.name(), counts);
            }
            ctx.putMetadata("objects", objects);
        } catch (SQLException e) {
            throw new EngineException("backup of " + cfg.describe() + " failed: " + e.getMessage(), e);
        } finally {
            if (locked.getAndSet(false)) {
                unlockQuietly(coord, lockMethod);
            }
            for (Connection w : workers) {
                abortQuietly(w);
            }
            Sessions.closeQuietly(coord);
        }
    }

    private TableDumper.Result dumpTable(BackupContext ctx, Connection w, ServerVersion v, TableInfo t) throws IOException {
        try (OutputStream raw = ctx.newStream(StreamNames.data(t.database(), t.name()));
             OutputStream out = new BufferedOutputStream(raw, 256 * 1024)) {
            return TableDumper.dump(w, v, t, out, cfg.server());
        }
    }

    /** Binary log file/position and GTID state at the snapshot's instant. */
    private Map<String, Object> binlogCoordinates(Connection coord, Connection firstWorker, ServerVersion v,
                                                  ServerVersion.LockMethod lockMethod) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        if (lockMethod == ServerVersion.LockMethod.NONE) {
            if (!v.isMariaDb()) {
                // MySQL gives no position tied to a snapshot without a lock
                return null;
            }
            // MariaDB records the binlog position at START TRANSACTION WITH CONSISTENT SNAPSHOT, per session
            Map<String, String> status = new LinkedHashMap<>();
            for (List<String> r : Sessions.query(firstWorker, "SHOW STATUS LIKE 'binlog_snapshot_%'")) {
                status.put(r.get(0).toLowerCase(java.util.Locale.ROOT), r.get(1));
            }
            String file = status.get("binlog_snapshot_file");
            String pos = status.get("binlog_snapshot_position");
            if (file == null || file.isEmpty() || pos == null) {
                return null;
            }
            m.put("file", file);
            m.put("position", Long.parseLong(pos));
        } else {
            List<List<String>> r = Sessions.query(coord, v.binlogStatusStatement());
            if (r.isEmpty()) {
                return null;
            }
            m.put("file", r.get(0).get(0));
            m.put("position", Long.parseLong(r.get(0).get(1)));
        }
        String gtid = Sessions.queryForString(coord, "SELECT " + v.gtidExpression());
        if (gtid != null && !gtid.isBlank()) {
            m.put("gtid", gtid.replace("\n", ""));
        }
        m.put("format", Sessions.queryForString(coord, "SELECT @@GLOBAL.binlog_format"));
        return m;
    }

    private static void writeJsonLines(BackupContext ctx, String stream, List<?> items) {
        try (OutputStream out = new BufferedOutputStream(ctx.newStream(stream))) {
            for (Object o : items) {
                out.write(Json.MAPPER.writeValueAsBytes(o));
                out.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write stream " + stream, e);
        }
    }

    private void unlock(Connection coord, ServerVersion.LockMethod m) throws SQLException {
        String s = ServerVersion.unlockStatement(m);
        if (s != null) {
            Sessions.execute(coord, s);
        }
    }

    private void unlockQuietly(Connection coord, ServerVersion.LockMethod m) {
        try {
            unlock(coord, m);
        } catch (SQLException | RuntimeException e) {
            // the session is closed next, which releases the lock as well
        }
    }

    private static void abortQuietly(Connection c) {
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            Sessions.closeQuietly(c);
        }
    }

    private BackupException asBackupException(Throwable t) {
        if (t instanceof BackupException b) {
            return b;
        }
        if (t instanceof UncheckedIOException u && u.getCause() != null) {
            t = u.getCause();
        }
        if (t instanceof SQLException s) {
            return new EngineException("backup of " + cfg.describe() + " failed: " + s.getMessage(), s);
        }
        return new BackupException("backup of " + cfg.describe() + " failed: " + t, t);
    }
}
