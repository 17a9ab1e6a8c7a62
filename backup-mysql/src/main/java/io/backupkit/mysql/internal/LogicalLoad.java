package io.backupkit.mysql.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.RestorePlan;
import io.backupkit.TargetExistsException;
import io.backupkit.VerificationCheck;
import io.backupkit.internal.WorkerPool;
import io.backupkit.spi.RestoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.backupkit.mysql.internal.Sessions.literal;
import static io.backupkit.mysql.internal.Sessions.quote;

/**
 * Restores a MySQL snapshot: per database, the database and its tables, the rows of every table in
 * parallel ({@code LOAD DATA LOCAL} from the data stream, or multi-row INSERTs where the server
 * refuses local loading), then views, routines, triggers and events, and users on request. A
 * database that exists is refused unless replacing it was asked for; a replacement is restored
 * beside the old database first and swapped in only once complete, so a failure leaves the old one.
 * A failure or an interrupt stops every row-loading session before the restore returns or drops a
 * database it created (see {@code loadRows}).
 */
public final class LogicalLoad {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalLoad.class);
    /** Session settings of every restore session: no FK or unique checks during the load, zero ids kept. */
    private static final String SQL_MODE = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION";

    private final MySqlConnectionConfig cfg;
    private final LoadOptions options;
    /** Set when an interrupted load's bounded wait ended before its workers: databases it wrote into are not dropped. */
    private volatile boolean streamsMayStillRun;

    /**
     * What to restore and how.
     *
     * @param dropExisting   replace databases that exist
     * @param tables         only these tables ("table" or "db.table"), empty for all
     * @param schemaOnly     no rows
     * @param users          restore the snapshot's user accounts
     * @param jobs           parallel sessions loading tables (0 = the restore's parallelism)
     * @param lockWait       how long a session waits for a lock
     * @param forceInserts   load with INSERT statements even if LOAD DATA LOCAL is allowed
     */
    public record LoadOptions(boolean dropExisting, List<String> tables, boolean schemaOnly, boolean users, int jobs,
                              Duration lockWait, boolean forceInserts) {
        public LoadOptions {
            tables = List.copyOf(tables);
        }
    }

    /** Runs after the rows and objects are in place and before a replacement is swapped in (the binary log replay). */
    public interface AfterLoad {
        /**
         * @param renames snapshot database name → the name it was restored under (may be a temporary name)
         * @param session a session on the target
         */
        void run(Map<String, String> renames, Connection session) throws SQLException;

        /** Plan lines of this step. */
        List<String> describe(Map<String, String> renames);
    }

    public LogicalLoad(MySqlConnectionConfig cfg, LoadOptions options) {
        this.cfg = cfg;
        this.options = options;
    }

    /** Snapshot database → target database name. */
    public Map<String, String> mapping(SnapshotModel model) {
        Map<String, String> m = new LinkedHashMap<>();
        List<String> dbs = model.databases();
        if (cfg.database() != null) {
            if (dbs.size() != 1) {
                throw new ConfigurationException("snapshot " + model.snapshot().shortId() + " holds " + dbs.size() + " databases "
                        + dbs + "; restore it into a server URL without a database (they keep their names), or back up one database");
            }
            m.put(dbs.get(0), cfg.database());
        } else {
            dbs.forEach(d -> m.put(d, d));
        }
        return m;
    }

    /** The tables to restore per snapshot database (all unless {@link LoadOptions#tables()} picks some). */
    Map<String, List<SnapshotModel.TableEntry>> selectedTables(SnapshotModel model) {
        Map<String, List<SnapshotModel.TableEntry>> out = new LinkedHashMap<>();
        for (String db : model.databases()) {
            out.put(db, new ArrayList<>());
        }
        if (options.tables().isEmpty()) {
            model.tables().forEach(t -> out.get(t.info().database()).add(t));
            return out;
        }
        Set<SnapshotModel.TableEntry> picked = new LinkedHashSet<>();
        for (String want : options.tables()) {
            List<SnapshotModel.TableEntry> matches = model.tables().stream().filter(t -> want.equals(t.info().name())
                    || want.equals(t.info().database() + "." + t.info().name())).toList();
            if (matches.isEmpty()) {
                List<String> known = model.tables().stream().map(t -> t.info().qualifiedName()).limit(20).toList();
                throw new ConfigurationException("table " + want + " is not in snapshot " + model.snapshot().shortId() + "; it has "
                        + known + (model.tables().size() > 20 ? " and " + (model.tables().size() - 20) + " more" : ""));
            }
            if (matches.size() > 1) {
                throw new ConfigurationException("table name " + want + " is in several databases of snapshot " + model.snapshot().shortId()
                        + ": " + matches.stream().map(t -> t.info().qualifiedName()).toList() + "; write it as database.table");
            }
            picked.addAll(matches);
        }
        picked.forEach(t -> out.get(t.info().database()).add(t));
        return out;
    }

    public RestorePlan plan(RestoreContext ctx, AfterLoad after) {
        SnapshotModel model = SnapshotModel.of(ctx.snapshot());
        Map<String, String> mapping = mapping(model);
        Map<String, List<SnapshotModel.TableEntry>> tables = selectedTables(model);
        List<String> actions = new ArrayList<>();
        long bytes = 0;
        Set<String> existing = existingDatabases(mapping.values());
        for (Map.Entry<String, String> e : mapping.entrySet()) {
            String target = e.getValue();
            List<SnapshotModel.TableEntry> ts = tables.get(e.getKey());
            if (!options.tables().isEmpty() && ts.isEmpty()) {
                continue;
            }
            if (existing.contains(target)) {
                actions.add(options.dropExisting() ? "replace database " + target + " (restored beside it first, swapped in when complete)"
                        : "REFUSED: database " + target + " exists (nothing would be changed)");
            } else {
                actions.add("create database " + target + (target.equals(e.getKey()) ? "" : " (from " + e.getKey() + ")"));
            }
            actions.add("create " + ts.size() + " table(s) in " + target);
            if (!options.schemaOnly()) {
                long rows = ts.stream().mapToLong(SnapshotModel.TableEntry::rows).sum();
                actions.add("load " + rows + " row(s) into " + ts.size() + " table(s) of " + target);
                for (SnapshotModel.TableEntry t : ts) {
                    bytes += ctx.snapshot().stream(t.stream()).map(io.backupkit.SnapshotStream::size).orElse(0L);
                }
            }
            if (options.tables().isEmpty()) {
                actions.add("create views, routines, triggers and events of " + target);
            } else {
                actions.add("create the triggers of the chosen tables (views, routines and events are not restored with --tables)");
            }
        }
        if (model.hasUsers()) {
            actions.add(options.users() ? "create the snapshot's user accounts the target lacks, with their grants"
                    : "user accounts in the snapshot are not restored (ask for them with users)");
        }
        if (after != null) {
            actions.addAll(after.describe(mapping));
        }
        return new RestorePlan(describeTarget(), actions, bytes);
    }

    public String describeTarget() {
        return cfg.database() == null ? "server " + cfg.server() : "database " + cfg.database() + " on " + cfg.server();
    }

    private Set<String> existingDatabases(java.util.Collection<String> names) {
        Connection c = Sessions.open(cfg, "restore check", lockWaitSeconds());
        try {
            Set<String> out = new LinkedHashSet<>();
            for (String n : names) {
                if (!Sessions.query(c, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + literal(n)).isEmpty()) {
                    out.add(n);
                }
            }
            return out;
        } catch (SQLException e) {
            throw new EngineException("cannot read the databases of " + cfg.server() + ": " + e.getMessage(), e);
        } finally {
            Sessions.closeQuietly(c);
        }
    }

    private int lockWaitSeconds() {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, options.lockWait().toSeconds()));
    }

    /** Restores the snapshot of {@code ctx}; {@code after} (may be null) runs before replacements are swapped in. */
    public void restore(RestoreContext ctx, AfterLoad after) {
        SnapshotModel model = SnapshotModel.of(ctx.snapshot());
        Map<String, String> mapping = mapping(model);
        Map<String, List<SnapshotModel.TableEntry>> selected = selectedTables(model);
        boolean full = options.tables().isEmpty();
        if (!full) {
            mapping.keySet().removeIf(db -> selected.get(db).isEmpty());
        }
        Connection c = Sessions.open(cfg, "restore", lockWaitSeconds());
        Map<String, String> restoredAs = new LinkedHashMap<>();
        Set<String> created = new LinkedHashSet<>();
        boolean swapped = false;
        try {
            ServerVersion v = LogicalDump.version(c);
            v.checkSupported(cfg.server());
            Set<String> existing = new LinkedHashSet<>();
            for (String target : mapping.values()) {
                if (!Sessions.query(c, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = " + literal(target)).isEmpty()) {
                    existing.add(target);
                }
            }
            if (!existing.isEmpty() && !options.dropExisting()) {
                String first = existing.iterator().next();
                throw new TargetExistsException("database " + first + " on " + cfg.server(), (existing.size() == 1 ? "database " + first
                        + " already exists" : "databases " + existing + " already exist") + " on " + cfg.server()
                        + "; refusing to restore over " + (existing.size() == 1 ? "it" : "them") + " (nothing was changed). "
                        + "Restore into a new database name, or use dropExisting() to replace " + (existing.size() == 1 ? "it" : "them"));
            }
            boolean useInserts = options.forceInserts() || !"1".equals(Sessions.queryForString(c, "SELECT @@GLOBAL.local_infile"));
            if (useInserts && !options.forceInserts()) {
                LOG.info("{} does not allow LOAD DATA LOCAL (local_infile=OFF): loading rows with INSERT statements", cfg.server());
            }
            Map<String, List<SchemaObject>> schemas = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : mapping.entrySet()) {
                String target = e.getValue();
                String into = existing.contains(target) ? temporaryName() : target;
                List<SchemaObject> schema = SnapshotModel.readSchema(ctx, e.getKey());
                schemas.put(e.getKey(), schema);
                createDatabase(c, into, schema);
                created.add(into);
                restoredAs.put(e.getKey(), into);
                List<SnapshotModel.TableEntry> tables = selected.get(e.getKey());
                Set<String> names = new LinkedHashSet<>();
                tables.forEach(t -> names.add(t.info().name()));
                createTables(c, into, schema, names, full);
                if (!options.schemaOnly()) {
                    loadRows(ctx, v, into, tables, useInserts);
                }
                createObjects(c, into, schema, names, full, false);
            }
            if (options.users() && model.hasUsers()) {
                UserAccounts.restore(c, SnapshotModel.readUsers(ctx)).forEach(l -> LOG.info("{}", l));
            }
            if (after != null) {
                after.run(restoredAs, c);
            }
            for (Map.Entry<String, String> e : mapping.entrySet()) {
                String target = e.getValue();
                String tmp = restoredAs.get(e.getKey());
                if (!tmp.equals(target)) {
                    swapIn(c, tmp, target, schemas.get(e.getKey()), full);
                    created.remove(tmp);
                    swapped = true;
                } else if (full) {
                    createEvents(c, target, schemas.get(e.getKey()));
                }
            }
            created.clear();
        } catch (SQLException e) {
            throw new EngineException("restore into " + describeTarget() + " failed: " + e.getMessage(), e);
        } finally {
            if (!created.isEmpty() && streamsMayStillRun) {
                // dropping it could race a load that is still running; better left for the user to drop
                LOG.warn("the databases {} of the interrupted restore on {} were not dropped: some of its row loads had not ended "
                        + "within {} s; drop them once they have", created, cfg.server(), WorkerPool.STOP_WAIT.toSeconds());
            } else if (!created.isEmpty()) {
                for (String db : created) {
                    try {
                        Sessions.execute(c, "DROP DATABASE IF EXISTS " + quote(db));
                    } catch (SQLException | RuntimeException e) {
                        LOG.warn("could not remove database {} of a failed restore on {}: {}", db, cfg.server(), e.getMessage());
                    }
                }
            }
            if (swapped) {
                LOG.info("replaced databases on {}", cfg.server());
            }
            Sessions.closeQuietly(c);
        }
    }

    static String temporaryName() {
        byte[] b = new byte[6];
        new java.security.SecureRandom().nextBytes(b);
        return "backupkit_tmp_" + HexFormat.of().formatHex(b);
    }

    private static void createDatabase(Connection c, String name, List<SchemaObject> schema) throws SQLException {
        String options = schema.stream().filter(o -> o.kind() == SchemaObject.Kind.DATABASE).map(SchemaObject::sql).findFirst().orElse("");
        Sessions.execute(c, "CREATE DATABASE " + quote(name) + " " + options);
    }

    private static void useRestoreSettings(Connection c, String db) throws SQLException {
        Sessions.execute(c, "USE " + quote(db));
        Sessions.execute(c, "SET SESSION sql_mode = '" + SQL_MODE + "', SESSION foreign_key_checks = 0, SESSION unique_checks = 0, "
                + "SESSION time_zone = '+00:00', collation_connection = 'utf8mb4_general_ci'");
    }

    /** Tables named in {@code tables}; sequences too when {@code full} (the whole database is restored). */
    private static void createTables(Connection c, String db, List<SchemaObject> schema, Set<String> tables, boolean full)
            throws SQLException {
        useRestoreSettings(c, db);
        for (SchemaObject o : schema) {
            if (o.kind() == SchemaObject.Kind.TABLE && tables.contains(o.name())) {
                execute(c, o, db);
            } else if (o.kind() == SchemaObject.Kind.SEQUENCE && full) {
                execute(c, o, db);
                if (o.extra() != null) {
                    Sessions.execute(c, o.extra());
                }
            }
        }
    }

    /**
     * The triggers of {@code tables}; with {@code full} also views (in dependency order, found by
     * retrying) and routines, and events when {@code withEvents}.
     */
    private static void createObjects(Connection c, String db, List<SchemaObject> schema, Set<String> tables, boolean full,
                                      boolean withEvents) throws SQLException {
        useRestoreSettings(c, db);
        boolean all = full;
        if (all) {
            List<SchemaObject> views = new ArrayList<>(schema.stream().filter(o -> o.kind() == SchemaObject.Kind.VIEW).toList());
            while (!views.isEmpty()) {
                List<SchemaObject> failed = new ArrayList<>();
                SQLException last = null;
                for (SchemaObject view : views) {
                    try {
                        execute(c, view, db);
                    } catch (SQLException e) {
                        if (Sessions.errorCode(e) != Sessions.NO_SUCH_TABLE) {
                            throw objectError(view, db, e);
                        }
                        // it selects from a view not created yet: try again after the others
                        failed.add(view);
                        last = e;
                    }
                }
                if (failed.size() == views.size()) {
                    throw objectError(failed.get(0), db, last);
                }
                views = failed;
            }
            for (SchemaObject o : schema) {
                if (o.kind() == SchemaObject.Kind.FUNCTION || o.kind() == SchemaObject.Kind.PROCEDURE) {
                    execute(c, o, db);
                }
            }
        }
        for (SchemaObject o : schema) {
            if (o.kind() == SchemaObject.Kind.TRIGGER && tables.contains(o.table())) {
                execute(c, o, db);
            }
        }
        if (withEvents && all) {
            createEvents(c, db, schema);
        }
    }

    private static void createEvents(Connection c, String db, List<SchemaObject> schema) throws SQLException {
        useRestoreSettings(c, db);
        for (SchemaObject o : schema) {
            if (o.kind() == SchemaObject.Kind.EVENT) {
                if (o.extra() != null) {
                    Sessions.execute(c, "SET SESSION time_zone = " + literal(o.extra()));
                }
                execute(c, o, db);
                Sessions.execute(c, "SET SESSION time_zone = '+00:00'");
            }
        }
    }

    /** Runs an object's statement under the sql_mode and collation it was created with. */
    private static void execute(Connection c, SchemaObject o, String db) throws SQLException {
        boolean own = o.sqlMode() != null || o.collationConnection() != null;
        try {
            if (o.sqlMode() != null) {
                Sessions.execute(c, "SET SESSION sql_mode = " + literal(o.sqlMode()));
            }
            if (o.collationConnection() != null) {
                Sessions.execute(c, "SET SESSION collation_connection = " + literal(o.collationConnection()));
            }
            Sessions.execute(c, o.sql());
        } catch (SQLException e) {
            if (o.kind() == SchemaObject.Kind.VIEW && Sessions.errorCode(e) == Sessions.NO_SUCH_TABLE) {
                throw e;
            }
            throw objectError(o, db, e);
        } finally {
            if (own) {
                Sessions.execute(c, "SET SESSION sql_mode = '" + SQL_MODE + "', collation_connection = 'utf8mb4_general_ci'");
            }
        }
    }

    private static SQLException objectError(SchemaObject o, String db, SQLException e) {
        return new SQLException("cannot create " + o.kind().label() + " " + db + "." + o.name() + ": " + e.getMessage(),
                e.getSQLState(), e.getErrorCode(), e);
    }

    /**
     * Loads every table's rows, several tables at once, one session per worker. A failing table or
     * an interrupt of the calling thread stops every worker's session ({@link WorkerPool#onStopSession}: its
     * statement killed, its socket closed) and this returns only once no worker loads rows any more,
     * so the caller's cleanup (dropping the database it created) does not race them.
     */
    private void loadRows(RestoreContext ctx, ServerVersion v, String db, List<SnapshotModel.TableEntry> tables, boolean useInserts) {
        if (tables.isEmpty()) {
            return;
        }
        int sessions = Math.max(1, Math.min(tables.size(), options.jobs() > 0 ? options.jobs() : ctx.parallelism()));
        List<SnapshotModel.TableEntry> order = new ArrayList<>(tables);
        order.sort((a, b) -> Long.compare(size(ctx, b), size(ctx, a)));
        WorkerPool<SnapshotModel.TableEntry> pool = new WorkerPool<>("loading rows into " + db + " on " + cfg.server(),
                "backupkit-mysql-load", new ConcurrentLinkedQueue<>(order));
        // a worker keeps its session from one table to the next
        Map<Thread, Connection> sessionOf = new ConcurrentHashMap<>();
        try {
            pool.execute(sessions, t -> {
                try {
                    Connection w = sessionOf.get(Thread.currentThread());
                    if (w == null) {
                        w = Sessions.open(cfg, "restore worker " + (sessionOf.size() + 1), lockWaitSeconds());
                        sessionOf.put(Thread.currentThread(), w);
                        Connection session = w;
                        // runs at once if the pool stopped while this session was being opened
                        pool.onStopSession(session, Sessions::cancel);
                        useRestoreSettings(w, db);
                    }
                    loadTable(ctx, w, db, t, useInserts);
                } catch (BackupException e) {
                    throw e;
                } catch (SQLException | IOException | RuntimeException e) {
                    Throwable cause = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
                    throw new EngineException("loading rows into " + db + " on " + cfg.server() + " failed: " + cause.getMessage(), cause);
                }
            });
        } finally {
            if (!pool.settled()) {
                // an interrupted load whose bounded wait ended first: a worker may still be loading rows
                streamsMayStillRun = true;
            }
            sessionOf.values().forEach(Sessions::closeQuietly);
        }
    }

    private static long size(RestoreContext ctx, SnapshotModel.TableEntry t) {
        return ctx.snapshot().stream(t.stream()).map(io.backupkit.SnapshotStream::size).orElse(0L);
    }

    private void loadTable(RestoreContext ctx, Connection w, String db, SnapshotModel.TableEntry t, boolean useInserts)
            throws SQLException, IOException {
        long loaded;
        try (InputStream in = ctx.openStream(t.stream())) {
            if (useInserts) {
                loaded = InsertLoader.load(w, db, t.info(), in);
            } else {
                try (Statement st = w.createStatement()) {
                    st.unwrap(org.mariadb.jdbc.Statement.class).setLocalInfileInputStream(in);
                    loaded = st.executeLargeUpdate(RowFormat.loadData(t.info(), db, "backupkit-" + t.stream()));
                    String warnings = warnings(w);
                    if (warnings != null) {
                        throw new EngineException("loading table " + db + "." + t.info().name() + " produced warnings (rows may differ "
                                + "from the snapshot): " + warnings);
                    }
                }
            }
            // read to the end so that the stream's SHA-256 is checked even if LOAD DATA stopped early
            in.transferTo(OutputStream.nullOutputStream());
        }
        if (loaded != t.rows()) {
            throw new EngineException("table " + db + "." + t.info().name() + " received " + loaded + " rows, the snapshot has "
                    + t.rows() + " (duplicate keys or rows the target's table definition rejects?)");
        }
    }

    private static String warnings(Connection c) throws SQLException {
        List<List<String>> w = Sessions.query(c, "SHOW WARNINGS LIMIT 3");
        if (w.isEmpty()) {
            return null;
        }
        List<String> lines = new ArrayList<>();
        for (List<String> r : w) {
            lines.add(r.get(0) + " " + r.get(1) + ": " + r.get(2));
        }
        return String.join("; ", lines);
    }

    /**
     * Moves a database restored under {@code tmp} to {@code target}, replacing it: triggers are
     * dropped in {@code tmp} (a table with triggers cannot change database), the old database is
     * dropped, the tables are renamed in one statement, then views, routines, triggers and events are
     * created in {@code target} and {@code tmp} (now without tables) is dropped.
     */
    private void swapIn(Connection c, String tmp, String target, List<SchemaObject> schema, boolean full) throws SQLException {
        List<String> tables = new ArrayList<>();
        for (List<String> r : Sessions.query(c, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + literal(tmp)
                + " AND TABLE_TYPE <> 'VIEW'")) {
            tables.add(r.get(0));
        }
        for (List<String> r : Sessions.query(c, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " + literal(tmp))) {
            Sessions.execute(c, "DROP TRIGGER " + quote(tmp) + "." + quote(r.get(0)));
        }
        Sessions.execute(c, "DROP DATABASE " + quote(target));
        createDatabase(c, target, schema);
        if (!tables.isEmpty()) {
            List<String> renames = new ArrayList<>();
            for (String t : tables) {
                renames.add(quote(tmp) + "." + quote(t) + " TO " + quote(target) + "." + quote(t));
            }
            Sessions.execute(c, "SET SESSION foreign_key_checks = 0");
            Sessions.execute(c, "RENAME TABLE " + String.join(", ", renames));
        }
        createObjects(c, target, schema, new LinkedHashSet<>(tables), full, true);
        Sessions.execute(c, "DROP DATABASE " + quote(tmp));
    }

    /**
     * Restores into scratch databases, compares every table with the snapshot (row counts, and the
     * re-read data stream's SHA-256 or, for tables without a primary key, the rows' digest) and the
     * number of objects of each kind, then drops the scratch databases.
     */
    public List<VerificationCheck> verifyByRestore(RestoreContext ctx) {
        SnapshotModel model = SnapshotModel.of(ctx.snapshot());
        List<VerificationCheck> checks = new ArrayList<>();
        String suffix = HexFormat.of().formatHex(java.nio.ByteBuffer.allocate(4).putInt(new java.security.SecureRandom().nextInt()).array());
        Map<String, String> scratch = new LinkedHashMap<>();
        int i = 0;
        for (String db : model.databases()) {
            scratch.put(db, "backupkit_verify_" + suffix + "_" + (++i));
        }
        Connection c = Sessions.open(cfg.withDatabase(null), "verify", lockWaitSeconds());
        try {
            ServerVersion v = LogicalDump.version(c);
            boolean useInserts = options.forceInserts() || !"1".equals(Sessions.queryForString(c, "SELECT @@GLOBAL.local_infile"));
            for (Map.Entry<String, String> e : scratch.entrySet()) {
                List<SchemaObject> schema = SnapshotModel.readSchema(ctx, e.getKey());
                createDatabase(c, e.getValue(), schema);
                Set<String> names = new LinkedHashSet<>();
                model.tables(e.getKey()).forEach(t -> names.add(t.info().name()));
                try {
                    createTables(c, e.getValue(), schema, names, true);
                    loadRows(ctx, v, e.getValue(), model.tables(e.getKey()), useInserts);
                    createObjects(c, e.getValue(), schema, names, true, false);
                    checks.add(VerificationCheck.passed("scratch restore of " + e.getKey(), "restored into " + e.getValue()
                            + " on " + cfg.server()));
                } catch (SQLException | RuntimeException ex) {
                    throwIfInterrupted(ex);
                    checks.add(VerificationCheck.failed("scratch restore of " + e.getKey(), ex.getMessage()));
                    continue;
                }
                for (SnapshotModel.TableEntry t : model.tables(e.getKey())) {
                    checks.add(compareTable(ctx, c, v, e.getValue(), t));
                }
                checks.add(compareObjects(c, v, e.getKey(), e.getValue(), schema));
            }
        } catch (SQLException e) {
            throwIfInterrupted(e);
            checks.add(VerificationCheck.failed("scratch restore", e.getMessage()));
        } finally {
            if (streamsMayStillRun) {
                LOG.warn("the scratch databases {} of the interrupted verification on {} were not dropped: some of its row loads had "
                        + "not ended within {} s; drop them once they have", scratch.values(), cfg.server(), WorkerPool.STOP_WAIT.toSeconds());
            }
            for (String db : streamsMayStillRun ? List.<String>of() : scratch.values()) {
                try {
                    Sessions.execute(c, "DROP DATABASE IF EXISTS " + quote(db));
                } catch (SQLException | RuntimeException e) {
                    checks.add(VerificationCheck.failed("drop scratch database " + db, e.getMessage()));
                }
            }
            Sessions.closeQuietly(c);
        }
        return checks;
    }

    /**
     * A verification whose caller interrupted it has no verdict: the interrupt's exception (the load's
     * "… interrupted") goes up instead of becoming a failed check, and the interrupt flag stays set.
     */
    private static void throwIfInterrupted(Exception e) {
        if (Thread.currentThread().isInterrupted()) {
            throw e instanceof RuntimeException r ? r : new EngineException("verification interrupted: " + e.getMessage(), e);
        }
    }

    private VerificationCheck compareTable(RestoreContext ctx, Connection c, ServerVersion v, String scratchDb, SnapshotModel.TableEntry t) {
        String name = "table " + t.info().qualifiedName();
        TableInfo restored = new TableInfo(scratchDb, t.info().name(), t.info().engine(), t.info().transactional(), t.info().columns(),
                t.info().primaryKey(), 0);
        MessageDigest md = TableDumper.sha256();
        TableDumper.Result r;
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), md)) {
            r = TableDumper.dump(c, v, restored, out, cfg.server());
        } catch (IOException | RuntimeException e) {
            return VerificationCheck.failed(name, "cannot read it back: " + e.getMessage());
        }
        if (r.rows() != t.rows()) {
            return VerificationCheck.failed(name, "restored " + r.rows() + " rows, the snapshot has " + t.rows());
        }
        if (t.rowsDigest() != null) {
            return t.rowsDigest().equals(r.rowsDigest()) ? VerificationCheck.passed(name, r.rows() + " rows, same row digest")
                    : VerificationCheck.failed(name, "the restored rows differ from the snapshot's (row digest)");
        }
        String actual = HexFormat.of().formatHex(md.digest());
        // the SHA-256 of the stream as stored, read back from the repository: the digest a manifest records
        // is over the stream's chunks in repositories of format 2, so it cannot be compared with this one
        String expected;
        MessageDigest stored = TableDumper.sha256();
        try (java.io.InputStream in = ctx.openStream(t.stream())) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                stored.update(buf, 0, n);
            }
            expected = HexFormat.of().formatHex(stored.digest());
        } catch (IOException | RuntimeException e) {
            return VerificationCheck.failed(name, "cannot read the snapshot's stream " + t.stream() + " back: " + e.getMessage());
        }
        return actual.equals(expected) ? VerificationCheck.passed(name, r.rows() + " rows, same bytes as the snapshot")
                : VerificationCheck.failed(name, "the restored rows differ from the snapshot's (SHA-256 of the re-read data stream)");
    }

    private VerificationCheck compareObjects(Connection c, ServerVersion v, String db, String scratchDb, List<SchemaObject> schema) {
        String name = "objects of " + db;
        try {
            SchemaReader.DatabaseSchema restored = new SchemaReader(c, v).read(scratchDb);
            List<String> diffs = new ArrayList<>();
            for (SchemaObject.Kind k : SchemaObject.Kind.values()) {
                if (k == SchemaObject.Kind.DATABASE || k == SchemaObject.Kind.EVENT) {
                    continue;
                }
                long want = schema.stream().filter(o -> o.kind() == k).count();
                long got = restored.count(k);
                if (want != got) {
                    diffs.add(k.label() + "s: " + got + " restored, " + want + " in the snapshot");
                }
            }
            return diffs.isEmpty() ? VerificationCheck.passed(name, schema.size() - 1 + " objects (events are checked by restoring "
                    + "only: a scratch copy must not run them)") : VerificationCheck.failed(name, String.join("; ", diffs));
        } catch (SQLException | RuntimeException e) {
            return VerificationCheck.failed(name, e.getMessage());
        } finally {
            try {
                Sessions.execute(c, "USE mysql");
            } catch (SQLException ignored) {
                // the next statement names its database anyway
            }
        }
    }

}
