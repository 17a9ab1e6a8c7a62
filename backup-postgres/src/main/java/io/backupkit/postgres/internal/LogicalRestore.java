package io.backupkit.postgres.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationCheck;
import io.backupkit.internal.WorkerPool;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Restores a logical snapshot: creates the database (original encoding and locale, from template0),
 * restores pre-data, then the data streams in parallel (one pg_restore per stream, fed from the
 * repository through stdin), then post-data with {@code pg_restore -j}. When anything fails or the
 * calling thread is interrupted, first stops every data stream (children destroyed, COPY sessions
 * cancelled and closed), then removes a database it created; an existing one is never dropped.
 */
public final class LogicalRestore {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalRestore.class);

    /** Set when an interrupted data phase's bounded wait ended before its streams: the database is then not dropped. */
    private volatile boolean streamsMayStillRun;
    private final PgConnectionConfig server;
    private final RestoreOptions options;
    /** A scratch restore for verification: a row count that differs is reported by the row count checks, not thrown. */
    private final boolean verifying;

    public LogicalRestore(PgConnectionConfig server, RestoreOptions options) {
        this(server, options, false);
    }

    private LogicalRestore(PgConnectionConfig server, RestoreOptions options, boolean verifying) {
        this.server = server;
        this.options = options;
        this.verifying = verifying;
    }

    private String targetDatabase() {
        return options.database() != null ? options.database() : server.database();
    }

    private PgConnectionConfig maintenance() {
        String m = options.maintenanceDatabase();
        if (m == null) {
            m = "postgres".equals(targetDatabase()) ? "template1" : "postgres";
        }
        return server.withDatabase(m);
    }

    /** Tables to restore: all, or the chosen ones with their partitions. */
    List<BackupMetadata.Table> selection(BackupMetadata meta, Snapshot snapshot) {
        if (options.tables().isEmpty()) {
            return meta.tables();
        }
        Set<String> chosen = new LinkedHashSet<>();
        List<String> unknown = new ArrayList<>();
        for (String wanted : options.tables()) {
            List<BackupMetadata.Table> hits = meta.tables().stream()
                    .filter(t -> wanted.contains(".") ? t.name().equals(wanted) : t.table().equals(wanted)).toList();
            if (hits.isEmpty() && wanted.contains(".")) {
                hits = meta.tables().stream().filter(t -> t.table().equals(wanted)).toList();
            }
            if (hits.isEmpty()) {
                unknown.add(wanted);
            } else if (hits.size() > 1) {
                throw new ConfigurationException("table name " + wanted + " is ambiguous in snapshot " + snapshot.shortId() + ": "
                        + hits.stream().map(BackupMetadata.Table::name).toList() + "; give schema.table");
            } else {
                chosen.add(hits.get(0).name());
            }
        }
        if (!unknown.isEmpty()) {
            List<String> names = meta.tables().stream().map(BackupMetadata.Table::name).toList();
            throw new ConfigurationException("table" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown)
                    + (unknown.size() > 1 ? " are" : " is") + " not in snapshot " + snapshot.shortId() + " of database " + meta.database()
                    + " (it has " + (names.size() > 20 ? names.subList(0, 20) + " and " + (names.size() - 20) + " more" : names) + ")");
        }
        // partitions come with their partitioned table
        boolean grew = true;
        while (grew) {
            grew = false;
            for (BackupMetadata.Table t : meta.tables()) {
                if (t.parent() != null && chosen.contains(t.parent()) && chosen.add(t.name())) {
                    grew = true;
                }
            }
        }
        return meta.tables().stream().filter(t -> chosen.contains(t.name())).toList();
    }

    private boolean selective() {
        return !options.tables().isEmpty();
    }

    private long streamSize(Snapshot s, String name) {
        return s.stream(name).map(SnapshotStream::size).orElse(0L);
    }

    private List<String> dataStreams(Snapshot snapshot, BackupMetadata meta, List<BackupMetadata.Table> chosen) {
        Set<String> chosenNames = new LinkedHashSet<>();
        chosen.forEach(t -> chosenNames.add(t.name()));
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : meta.shards().entrySet()) {
            if (!selective() || e.getValue().stream().anyMatch(chosenNames::contains)) {
                out.add(e.getKey());
            }
        }
        for (BackupMetadata.Part p : meta.parts().values()) {
            if (!selective() || chosenNames.contains(p.table())) {
                out.add(p.stream());
            }
        }
        if (snapshot.stream(LogicalBackup.OTHER_DATA).isPresent()) {
            out.add(LogicalBackup.OTHER_DATA);
        }
        return out;
    }

    public RestorePlan plan(RestoreContext context) {
        Snapshot snapshot = context.snapshot();
        BackupMetadata meta = BackupMetadata.of(snapshot);
        List<BackupMetadata.Table> chosen = selection(meta, snapshot);
        String db = targetDatabase();
        List<String> actions = new ArrayList<>();
        long bytes = 0;
        boolean exists;
        long existingSize = 0;
        try (Connection c = Catalog.connect(maintenance(), "backupkit-restore-plan")) {
            exists = Catalog.databaseExists(c, db);
            if (exists) {
                existingSize = Catalog.databaseSize(c, db);
            }
        } catch (SQLException e) {
            throw Catalog.sqlError("planning the restore into " + server.withDatabase(db).describe(), e);
        }
        checkTargetState(db, exists);
        boolean replacing = exists && options.dropExisting();
        if (options.restoreGlobals()) {
            String g = meta.globalsStream();
            actions.add("restore roles, role memberships and tablespaces (" + (g == null ? "none in this snapshot" : g + ", "
                    + human(streamSize(snapshot, g))) + "); existing ones are kept");
        }
        if (!options.dataOnly()) {
            actions.add("create database " + (replacing ? db + " under a temporary name" : db) + " (encoding " + meta.encoding()
                    + ", lc_collate " + meta.lcCollate() + ", lc_ctype " + meta.lcCtype() + ", template0)");
        }
        boolean timescale = meta.hasExtension("timescaledb");
        if (timescale) {
            actions.add("run timescaledb_pre_restore() (source had timescaledb " + meta.extensionVersion("timescaledb") + ")");
        }
        if (!options.dataOnly()) {
            long s = streamSize(snapshot, LogicalBackup.PRE_DATA);
            bytes += s;
            actions.add("restore schema: types, functions, tables (" + LogicalBackup.PRE_DATA + ", " + human(s) + ")");
        }
        if (!options.schemaOnly()) {
            for (String stream : dataStreams(snapshot, meta, chosen)) {
                long s = streamSize(snapshot, stream);
                bytes += s;
                if (stream.equals(LogicalBackup.OTHER_DATA)) {
                    actions.add((meta.copyData() ? "restore large objects and extension data (" : "restore sequence values, large objects "
                            + "and other data (") + stream + ", " + human(s) + ")");
                }
            }
            for (BackupMetadata.Table t : chosen) {
                if (!t.partitioned()) {
                    actions.add("restore table " + t.name() + " (" + t.rows() + " rows, " + human(t.bytes()) + " on the source) from "
                            + (t.parts().isEmpty() ? t.stream() : t.parts().size() + " parallel parts " + String.join(", ", t.parts())));
                }
            }
        }
        if (!options.schemaOnly() && !meta.sequences().isEmpty()) {
            actions.add("set " + meta.sequences().size() + " sequence values as saved");
        }
        if (!options.dataOnly()) {
            long s = streamSize(snapshot, LogicalBackup.POST_DATA);
            bytes += s;
            actions.add("restore indexes, constraints, triggers (" + LogicalBackup.POST_DATA + ", " + human(s) + ") with "
                    + context.parallelism() + " jobs");
        }
        if (timescale) {
            actions.add("run timescaledb_post_restore()");
        }
        if (!options.dataOnly()) {
            List<String> props = new ArrayList<>();
            if (!meta.databaseSettings().isEmpty()) {
                props.add("settings " + meta.databaseSettings());
            }
            String owner = effectiveOwner(meta);
            if (owner != null) {
                props.add("owner " + owner);
            }
            if (meta.databaseAcl() != null && !options.noPrivileges()) {
                props.add("grants " + meta.databaseAcl().stream().map(g -> g.privilege() + " to " + g.grantee()).toList());
            }
            if (meta.databaseComment() != null) {
                props.add("comment");
            }
            if (!props.isEmpty()) {
                actions.add("apply database " + String.join(", ", props));
            }
        }
        if (replacing) {
            actions.add("replace database " + db + " (existing, " + human(existingSize) + ") with the restored one: rename, then drop the old"
                    + (options.terminateSessions() ? ", ending its sessions" : "; refused while other sessions use it"));
        }
        return new RestorePlan(server.withDatabase(db).describe(), actions, bytes);
    }

    private void checkTargetState(String db, boolean exists) {
        if (options.dataOnly()) {
            if (!exists) {
                throw new ConfigurationException("data-only restore needs the database " + db + " to exist on " + server.host() + ":"
                        + server.port() + " with its schema; restore without dataOnly() to create it");
            }
        } else if (exists && !options.dropExisting()) {
            throw new io.backupkit.TargetExistsException("database " + db + " on " + server.host() + ":" + server.port(),
                    "database " + db + " already exists on " + server.host() + ":" + server.port()
                    + "; refusing to restore over it (nothing was changed). Restore into a new database name, or use dropExisting() "
                    + "to replace it");
        }
    }

    public void restore(RestoreContext context) {
        Snapshot snapshot = context.snapshot();
        BackupMetadata meta = BackupMetadata.of(snapshot);
        List<BackupMetadata.Table> chosen = selection(meta, snapshot);
        String db = targetDatabase();
        ToolRunner tools = new ToolRunner(context.commandExecutor(), options.toolDirectory(), server);
        ToolRunner.Version restoreVersion = tools.version("pg_restore");
        String dumpVersion = String.valueOf(snapshot.metadata().get("pgDumpVersion"));
        int dumpMajor = Integer.parseInt(dumpVersion.split("\\.")[0]);
        if (restoreVersion.major() < dumpMajor) {
            throw new EngineException("pg_restore " + restoreVersion + " at " + tools.program("pg_restore") + " is older than the pg_dump "
                    + dumpVersion + " that wrote snapshot " + snapshot.shortId() + "; use pg_restore " + dumpMajor + " or newer (toolDirectory)");
        }
        boolean created = false;
        String workDb = db;
        long start = System.nanoTime();
        try {
            boolean replacing;
            try (Connection m = Catalog.connect(maintenance(), "backupkit-restore")) {
                PgVersion version = PgVersion.of(Catalog.serverVersionNum(m)).requireSupported(server.host() + ":" + server.port());
                boolean exists = Catalog.databaseExists(m, db);
                checkTargetState(db, exists);
                replacing = exists && options.dropExisting();
                if (replacing && !options.terminateSessions()) {
                    // fail before a long restore rather than at its end: the swap cannot rename a database in use;
                    // and before the globals, so that a refusal has changed nothing on the server
                    refuseIfInUse(m, db, "before restoring");
                }
                if (options.restoreGlobals()) {
                    restoreGlobals(context, tools, meta);
                }
                checkRoles(m, meta);
                if (!options.dataOnly()) {
                    // replacing: restore under a temporary name and swap at the very end, so any failure leaves the old database as it was
                    workDb = replacing ? scratchName("backupkit_restore_") : db;
                    try (Statement st = m.createStatement()) {
                        st.execute(createDatabaseSql(workDb, meta, version));
                    }
                    created = true;
                    if (replacing) {
                        LOG.info("restoring into temporary database {} on {}:{}; {} is replaced only when the restore is complete", workDb,
                                server.host(), server.port(), db);
                    }
                }
            }
            PgConnectionConfig target = server.withDatabase(workDb);
            boolean timescale = meta.hasExtension("timescaledb");
            try (ToolFiles files = new ToolFiles(context.commandExecutor())) {
                if (timescale) {
                    timescale(target, meta, true);
                }
                try {
                    long t = System.nanoTime();
                    if (!options.dataOnly()) {
                        restoreSerial(context, tools, files, target, LogicalBackup.PRE_DATA, meta, chosen);
                    }
                    long preMs = (System.nanoTime() - t) / 1_000_000;
                    t = System.nanoTime();
                    if (!options.schemaOnly()) {
                        restoreData(context, tools, files, target, dataStreams(snapshot, meta, chosen), meta, chosen);
                        restoreSequences(target, meta, chosen);
                    }
                    long dataMs = (System.nanoTime() - t) / 1_000_000;
                    t = System.nanoTime();
                    if (!options.dataOnly()) {
                        restorePostData(context, tools, files, target, meta, chosen);
                    }
                    LOG.info("restore phases into {}: pre-data {} ms, data {} ms, post-data {} ms", target.describe(), preMs, dataMs,
                            (System.nanoTime() - t) / 1_000_000);
                } finally {
                    if (timescale) {
                        timescale(target, meta, false);
                    }
                }
            }
            // the maintenance session above sat idle through the whole restore (a firewall or idle_session_timeout may have
            // closed it): the final steps, which decide what survives, get a fresh one
            try (Connection m = Catalog.connect(maintenance(), "backupkit-restore-finish")) {
                if (!options.dataOnly()) {
                    // last, so a setting like default_transaction_read_only or a revoked CONNECT cannot get in the restore's way
                    applyDatabaseProperties(m, workDb, meta);
                }
                if (replacing) {
                    swap(m, workDb, db);
                    created = false;
                }
            }
            LOG.info("restored snapshot {} into {} in {} ms", snapshot.shortId(), server.withDatabase(db).describe(),
                    (System.nanoTime() - start) / 1_000_000);
        } catch (SQLException | RuntimeException e) {
            if (created && streamsMayStillRun) {
                // dropping it (WITH FORCE) could race a stream that is still running; better left for the user to drop
                e.addSuppressed(new EngineException("the partly restored database " + workDb + " was not dropped: some of the restore's"
                        + " streams had not ended within " + WorkerPool.STOP_WAIT.toSeconds() + " s; drop it once they have"));
                LOG.warn("restore into {} interrupted; the database it created was not dropped: some streams had not ended within {} s",
                        workDb, WorkerPool.STOP_WAIT.toSeconds());
            } else if (created) {
                dropQuietly(workDb, e);
            }
            if (e instanceof SQLException se) {
                throw Catalog.sqlError("restore into " + server.withDatabase(db).describe(), se);
            }
            throw (RuntimeException) e;
        }
    }

    private static String scratchName(String prefix) {
        byte[] rnd = new byte[6];
        new SecureRandom().nextBytes(rnd);
        return prefix + HexFormat.of().formatHex(rnd);
    }

    /** Other sessions connected to {@code db}, as "pid application" strings. */
    private static List<String> sessionsOn(Connection m, String db) throws SQLException {
        List<String> out = new ArrayList<>();
        try (java.sql.PreparedStatement ps = m.prepareStatement("SELECT pid, coalesce(nullif(application_name, ''), usename::text, '?') "
                + "FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()")) {
            ps.setString(1, db);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getInt(1) + " (" + rs.getString(2) + ")");
                }
            }
        }
        return out;
    }

    /**
     * How long sessions on a database to be replaced get to go away before the restore refuses: a session its
     * client has just closed stays in {@code pg_stat_activity} until its backend has exited (PostgreSQL's own
     * {@code DROP DATABASE} waits up to 5 s for the same reason), so a script that closes its connection and
     * then restores is not refused by a backend on its way out.
     */
    static final java.time.Duration IN_USE_GRACE = java.time.Duration.ofSeconds(2);

    private void refuseIfInUse(Connection m, String db, String when) throws SQLException {
        List<String> sessions = sessionsOn(m, db);
        long deadline = System.nanoTime() + IN_USE_GRACE.toNanos();
        while (!sessions.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("interrupted while waiting for the sessions on database " + db + " to end", e);
            }
            sessions = sessionsOn(m, db);
        }
        if (!sessions.isEmpty()) {
            throw inUse(db, sessions, when, null);
        }
    }

    private ConfigurationException inUse(String db, List<String> sessions, String when, Exception cause) {
        return new ConfigurationException(sessions.size() + " other session(s) are connected to database " + db + " on " + server.host()
                + ":" + server.port() + " " + when + " (pids " + (sessions.size() > 10 ? sessions.subList(0, 10) + " …" : sessions)
                + "); it was not changed. Close them, or let the restore end them with terminateSessions() (CLI: --terminate-sessions)",
                cause);
    }

    /**
     * Puts the restored database in place of the old one: old renamed aside, new renamed to the
     * name, old dropped. Until the second rename nothing of the old database has changed; if that
     * rename fails the first is undone. Only a failure to drop the renamed old database is left to
     * the user (it is logged with its name); the restore itself has then succeeded.
     */
    private void swap(Connection m, String restored, String db) throws SQLException {
        String aside = scratchName("backupkit_old_");
        for (int attempt = 1; ; attempt++) {
            if (options.terminateSessions()) {
                try (java.sql.PreparedStatement ps = m.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        + "WHERE datname = ? AND pid <> pg_backend_pid()")) {
                    ps.setString(1, db);
                    ps.executeQuery().close();
                }
            }
            try (Statement st = m.createStatement()) {
                st.execute("ALTER DATABASE " + Catalog.quoteIdent(db) + " RENAME TO " + Catalog.quoteIdent(aside));
                break;
            } catch (SQLException e) {
                if (!"55006".equals(e.getSQLState())) {
                    throw e;
                }
                List<String> sessions = sessionsOn(m, db);
                if (!options.terminateSessions() || attempt >= 20) {
                    throw inUse(db, sessions, "when the restore was ready to replace it", e);
                }
                // terminated backends take a moment to exit, and new ones may have connected meanwhile
                try {
                    Thread.sleep(Math.min(1000, 50L * attempt));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new EngineException("interrupted while replacing database " + db, ie);
                }
            }
        }
        try (Statement st = m.createStatement()) {
            st.execute("ALTER DATABASE " + Catalog.quoteIdent(restored) + " RENAME TO " + Catalog.quoteIdent(db));
        } catch (SQLException | RuntimeException e) {
            try (Statement st = m.createStatement()) {
                st.execute("ALTER DATABASE " + Catalog.quoteIdent(aside) + " RENAME TO " + Catalog.quoteIdent(db));
            } catch (SQLException | RuntimeException e2) {
                e.addSuppressed(new EngineException("the previous database " + db + " is now named " + aside
                        + " and could not be renamed back: run ALTER DATABASE " + Catalog.quoteIdent(aside) + " RENAME TO "
                        + Catalog.quoteIdent(db) + " (" + e2.getMessage() + ")", e2));
            }
            throw e;
        }
        try (Statement st = m.createStatement()) {
            st.execute("DROP DATABASE " + Catalog.quoteIdent(aside) + (options.terminateSessions() ? " WITH (FORCE)" : ""));
            LOG.info("replaced database {} on {}:{} with the restored one", db, server.host(), server.port());
        } catch (SQLException e) {
            LOG.warn("database {} was replaced, but its previous version, now named {}, could not be dropped: {}; drop it yourself",
                    db, aside, Catalog.sanitize(e.getMessage()));
        }
    }

    private static final java.util.Set<String> LIST_SETTINGS = java.util.Set.of("search_path", "temp_tablespaces",
            "session_preload_libraries", "shared_preload_libraries", "local_preload_libraries");

    /** "name=value" as stored in pg_db_role_setting → the SET clause of ALTER DATABASE / ALTER ROLE. */
    private static String setClause(String setting) {
        int eq = setting.indexOf('=');
        if (eq <= 0) {
            return null;
        }
        String name = setting.substring(0, eq);
        String value = setting.substring(eq + 1);
        // list settings are stored already quoted element by element; the rest is one literal
        String sqlValue = LIST_SETTINGS.contains(name.toLowerCase(java.util.Locale.ROOT)) ? value : Catalog.quoteLiteral(value);
        return " SET " + Catalog.quoteIdent(name) + " TO " + sqlValue;
    }

    /** The role that owns the restored database and objects: owner(role), else the source's owner unless noOwner(). */
    private String effectiveOwner(BackupMetadata meta) {
        if (options.owner() != null) {
            return options.owner();
        }
        return options.noOwner() ? null : meta.databaseOwner();
    }

    /**
     * What pg_dump writes only with --create and a per-section dump therefore lacks: owner, comment,
     * connection limit, grants (a {@code REVOKE CONNECT … FROM PUBLIC} included) and the settings of
     * ALTER DATABASE … SET and ALTER ROLE … IN DATABASE … SET.
     */
    private void applyDatabaseProperties(Connection m, String db, BackupMetadata meta) throws SQLException {
        String q = Catalog.quoteIdent(db);
        List<String> sql = new ArrayList<>();
        for (String setting : meta.databaseSettings()) {
            String clause = setClause(setting);
            if (clause != null) {
                sql.add("ALTER DATABASE " + q + clause);
            }
        }
        for (String[] rs : meta.databaseRoleSettings()) {
            String clause = setClause(rs[1]);
            if (clause == null) {
                continue;
            }
            if (!roleExists(m, rs[0])) {
                LOG.warn("role {} does not exist on {}:{}: its setting {} in database {} is not restored", rs[0], server.host(),
                        server.port(), rs[1], db);
                continue;
            }
            sql.add("ALTER ROLE " + Catalog.quoteIdent(rs[0]) + " IN DATABASE " + q + clause);
        }
        String owner = effectiveOwner(meta);
        if (owner != null) {
            sql.add("ALTER DATABASE " + q + " OWNER TO " + Catalog.quoteIdent(owner));
        }
        if (meta.databaseComment() != null) {
            sql.add("COMMENT ON DATABASE " + q + " IS " + Catalog.quoteLiteral(meta.databaseComment()));
        }
        Integer limit = meta.databaseConnectionLimit();
        if (limit != null && limit != -1) {
            sql.add("ALTER DATABASE " + q + " CONNECTION LIMIT " + limit);
        }
        List<BackupMetadata.Grant> acl = meta.databaseAcl();
        if (acl != null && !options.noPrivileges()) {
            // replace the defaults with exactly the recorded grants; the source owner's own grants go to whoever owns it now
            String ownerSql = owner != null ? Catalog.quoteIdent(owner) : "CURRENT_USER";
            sql.add("REVOKE ALL ON DATABASE " + q + " FROM PUBLIC");
            sql.add("REVOKE ALL ON DATABASE " + q + " FROM " + ownerSql);
            for (BackupMetadata.Grant g : acl) {
                String grantee = g.grantee().equals("PUBLIC") ? "PUBLIC"
                        : g.grantee().equals(meta.databaseOwner()) ? ownerSql : Catalog.quoteIdent(g.grantee());
                sql.add("GRANT " + g.privilege() + " ON DATABASE " + q + " TO " + grantee + (g.grantable() ? " WITH GRANT OPTION" : ""));
            }
        }
        boolean auto = m.getAutoCommit();
        m.setAutoCommit(false);
        try (Statement st = m.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
            m.commit();
        } catch (SQLException e) {
            m.rollback();
            throw e;
        } finally {
            m.setAutoCommit(auto);
        }
    }

    private static boolean roleExists(Connection m, String role) throws SQLException {
        try (java.sql.PreparedStatement ps = m.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Refuses, before anything is created, a restore whose owners, grants, policies or settings name
     * roles this server lacks: pg_restore would otherwise fail half-way with "role … does not exist".
     */
    private void checkRoles(Connection m, BackupMetadata meta) throws SQLException {
        Map<String, java.util.Set<String>> needed = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, String> need = (role, why) -> {
            if (role != null && !role.equals("PUBLIC") && !role.startsWith("pg_")) {
                needed.computeIfAbsent(role, r -> new java.util.TreeSet<>()).add(why);
            }
        };
        if (!options.dataOnly()) {
            if (options.owner() != null) {
                need.accept(options.owner(), "owner(…)");
            } else if (!options.noOwner()) {
                need.accept(meta.databaseOwner(), "owns the database");
                if (!selective()) {
                    meta.roles().getOrDefault("owner", List.of()).forEach(r -> need.accept(r, "owns objects"));
                }
            }
            if (!options.noPrivileges()) {
                if (meta.databaseAcl() != null) {
                    // the source owner's grants follow the database's owner, whoever that is now
                    meta.databaseAcl().forEach(g -> need.accept(g.grantee().equals(meta.databaseOwner()) ? null : g.grantee(),
                            "has privileges on the database"));
                }
                if (!selective()) {
                    meta.roles().getOrDefault("grantee", List.of()).forEach(r -> need.accept(r, "has privileges on objects"));
                }
            }
            if (!selective()) {
                meta.roles().getOrDefault("policy", List.of()).forEach(r -> need.accept(r, "is named in a row security policy"));
            }
            if (!options.noOwner() && !options.noPrivileges() && options.owner() == null) {
                // with roles left out of the restore, settings of missing roles are skipped (with a warning) instead
                meta.databaseRoleSettings().forEach(rs -> need.accept(rs[0], "has settings in the database"));
            }
        }
        if (needed.isEmpty()) {
            return;
        }
        java.util.Set<String> existing = new java.util.HashSet<>();
        try (java.sql.PreparedStatement ps = m.prepareStatement("SELECT rolname FROM pg_roles WHERE rolname = ANY (?)")) {
            ps.setArray(1, m.createArrayOf("text", needed.keySet().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    existing.add(rs.getString(1));
                }
            }
        }
        List<String> missing = new ArrayList<>();
        needed.forEach((role, why) -> {
            if (!existing.contains(role)) {
                missing.add(role + " (" + String.join(", ", why) + ")");
            }
        });
        if (!missing.isEmpty()) {
            throw new ConfigurationException("the snapshot needs " + (missing.size() > 1 ? "roles that do" : "a role that does")
                    + " not exist on " + server.host() + ":" + server.port() + ": " + String.join("; ", missing) + ". Nothing was changed. "
                    + "Create " + (missing.size() > 1 ? "them" : "it") + ", "
                    + "restore the snapshot's roles first with restoreGlobals() (CLI: --restore-globals), give the restored database "
                    + "and objects another owner with owner(role) (-o owner=ROLE), or leave owners and grants out with noOwner() and "
                    + "noPrivileges() (-o noOwner=true -o noPrivileges=true)");
        }
    }

    /**
     * Replays the snapshot's {@code pg_dumpall --globals-only} stream on the maintenance database:
     * roles, memberships, role settings, tablespaces. Roles that already exist on the target are kept as
     * they are: the statements that would change them (attributes, settings, comment, memberships granted
     * to them) are left out ({@link GlobalsFilter}), so a restore never alters a live role. Tablespaces that
     * exist are kept (their "already exists" errors are expected); any other error fails the restore before
     * the database is created, listing the statements that failed.
     */
    private void restoreGlobals(RestoreContext context, ToolRunner tools, BackupMetadata meta) {
        String stream = meta.globalsStream();
        if (stream == null || context.snapshot().stream(stream).isEmpty()) {
            throw new ConfigurationException("snapshot " + context.snapshot().shortId() + " has no globals (roles, tablespaces): it was "
                    + "made with globals(false) or by an older backupkit; restore without restoreGlobals() (--restore-globals)");
        }
        java.util.Set<String> existingRoles = new java.util.HashSet<>();
        try (Connection c = Catalog.connect(maintenance(), "backupkit-restore-globals"); Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT rolname FROM pg_catalog.pg_roles")) {
            while (rs.next()) {
                existingRoles.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new EngineException("reading the roles of " + server.host() + ":" + server.port() + " before restoring the snapshot's: "
                    + e.getMessage(), e);
        }
        GlobalsFilter.Result filtered;
        try (InputStream in = context.openStream(stream)) {
            // pg_dumpall --encoding=UTF8 wrote it; roles and tablespaces are small next to a database
            filtered = GlobalsFilter.keepExistingRoles(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                    existingRoles);
        } catch (IOException e) {
            throw new EngineException("reading the snapshot's globals: " + e.getMessage(), e);
        }
        if (!filtered.keptRoles().isEmpty()) {
            LOG.info("roles that exist on {}:{} are kept as they are (not altered): {}", server.host(), server.port(),
                    filtered.keptRoles());
        }
        CommandSpec spec = tools.command("psql").arg("--no-psqlrc").arg("--quiet").arg("--no-password")
                .arg("--dbname=" + maintenance().libpqConnectionString("backupkit-restore-globals")).build();
        List<String> errors = new ArrayList<>();
        int exit;
        try (RunningCommand rc = tools.start("psql", spec)) {
            Thread outPump = ToolRunner.daemon("psql-stdout", () -> {
                try (InputStream o = rc.stdout()) {
                    o.transferTo(OutputStream.nullOutputStream());
                } catch (IOException ignored) {
                    // process ended
                }
            });
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            Thread errPump = ToolRunner.daemon("psql-stderr", () -> {
                try (InputStream e = rc.stderr()) {
                    e.transferTo(err);
                } catch (IOException ignored) {
                    // process ended
                }
            });
            try (OutputStream toTool = rc.stdin()) {
                toTool.write(filtered.script().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new EngineException("restoring the snapshot's globals: psql stopped reading: " + e.getMessage(), e);
            }
            exit = rc.waitFor();
            errPump.join();
            outPump.join();
            for (String line : err.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (line.contains("ERROR:") && !line.contains("already exists")) {
                    errors.add(line.strip());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while restoring globals", e);
        }
        if (exit != 0 || !errors.isEmpty()) {
            throw new EngineException("restoring the snapshot's roles and tablespaces on " + server.host() + ":" + server.port()
                    + " failed (the database was not created): " + (errors.size() > 10 ? errors.subList(0, 10) + " and "
                    + (errors.size() - 10) + " more" : errors) + (exit != 0 ? " (psql exit code " + exit + ")" : ""));
        }
        LOG.info("restored the snapshot's roles and tablespaces on {}:{}", server.host(), server.port());
    }

    private void dropQuietly(String db, Exception cause) {
        try (Connection m = Catalog.connect(maintenance(), "backupkit-restore-cleanup"); Statement st = m.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + Catalog.quoteIdent(db) + " WITH (FORCE)");
            LOG.info("restore into {} failed; removed the database it had created", db);
        } catch (SQLException | RuntimeException e) {
            cause.addSuppressed(new EngineException("could not remove the partly restored database " + db + ": " + e.getMessage(), e));
        }
    }

    String createDatabaseSql(String db, BackupMetadata meta, PgVersion targetVersion) {
        StringBuilder sb = new StringBuilder("CREATE DATABASE ").append(Catalog.quoteIdent(db)).append(" WITH TEMPLATE template0");
        if (options.owner() != null) {
            // objects are created as this role (pg_restore --role), which needs the database's CREATE privilege from the start
            sb.append(" OWNER ").append(Catalog.quoteIdent(options.owner()));
        }
        if (meta.encoding() != null) {
            sb.append(" ENCODING ").append(Catalog.quoteLiteral(meta.encoding()));
        }
        sb.append(targetVersion.createDatabaseLocaleClause(meta.localeProvider(), meta.providerLocale(), meta.icuRules(),
                server.host() + ":" + server.port()));
        if (meta.lcCollate() != null) {
            sb.append(" LC_COLLATE ").append(Catalog.quoteLiteral(meta.lcCollate()));
        }
        if (meta.lcCtype() != null) {
            sb.append(" LC_CTYPE ").append(Catalog.quoteLiteral(meta.lcCtype()));
        }
        return sb.toString();
    }

    private void timescale(PgConnectionConfig target, BackupMetadata meta, boolean pre) {
        try (Connection c = Catalog.connect(target, "backupkit-restore"); Statement st = c.createStatement()) {
            if (pre) {
                if (!options.dataOnly()) {
                    st.execute("CREATE EXTENSION IF NOT EXISTS timescaledb VERSION " + Catalog.quoteLiteral(meta.extensionVersion("timescaledb")));
                }
                st.execute("SELECT timescaledb_pre_restore()");
            } else {
                st.execute("SELECT timescaledb_post_restore()");
            }
        } catch (SQLException e) {
            throw Catalog.sqlError((pre ? "timescaledb_pre_restore()" : "timescaledb_post_restore()") + " in " + target.describe(), e);
        }
    }

    private List<String> baseArgs(PgConnectionConfig target, String what) {
        List<String> args = new ArrayList<>(List.of("--no-password", "--exit-on-error",
                "--dbname=" + target.libpqConnectionString("backupkit-pg_restore " + what)));
        if (options.noOwner() || options.owner() != null) {
            args.add("--no-owner");
        }
        if (options.owner() != null) {
            // objects are created by, and so owned by, this role
            args.add("--role=" + options.owner());
        }
        if (options.noPrivileges()) {
            args.add("--no-privileges");
        }
        return args;
    }

    /** A -L list for a stream when restoring selectively; null to restore the whole stream. */
    private String listFor(RestoreContext context, ToolRunner tools, ToolFiles files, String stream, BackupMetadata meta,
                           List<BackupMetadata.Table> chosen) {
        return listFor(context, tools, files, stream, meta, chosen, null);
    }

    private String listFor(RestoreContext context, ToolRunner tools, ToolFiles files, String stream, BackupMetadata meta,
                           List<BackupMetadata.Table> chosen, WorkerPool<?> pool) {
        if (!selective()) {
            return null;
        }
        CommandSpec spec = tools.command("pg_restore").arg("--list").build();
        String toc = pipe(context, tools, spec, stream, "listing " + stream, pool).stdout();
        return files.write(stream + ".list", new TocFilter(meta.tables(), chosen).filter(toc));
    }

    private void restoreSerial(RestoreContext context, ToolRunner tools, ToolFiles files, PgConnectionConfig target, String stream,
                               BackupMetadata meta, List<BackupMetadata.Table> chosen) {
        String list = listFor(context, tools, files, stream, meta, chosen);
        CommandSpec.Builder b = tools.command("pg_restore").args(baseArgs(target, stream));
        if (list != null) {
            b.arg("--use-list=" + list);
        }
        ToolRunner.Result r = pipe(context, tools, b.build(), stream, "restoring " + stream);
        check(r, stream, target);
    }

    private void restoreData(RestoreContext context, ToolRunner tools, ToolFiles files, PgConnectionConfig target,
                             List<String> streams, BackupMetadata meta, List<BackupMetadata.Table> chosen) {
        int workers = Math.max(1, Math.min(context.parallelism(), streams.size()));
        boolean disableTriggers = options.dataOnly() && isSuperuser(target);
        Map<String, List<String>> shards = meta.shards();
        Map<String, Long> partRows = new java.util.concurrent.ConcurrentHashMap<>();
        // the first failure, or an interrupt, stops every stream at once (pg_restore children destroyed, COPY sessions
        // cancelled and closed): nothing goes on writing into the database once this returns, so the caller's cleanup
        // (dropping a database the restore created) does not race its own streams; unless the interrupted pool's bounded
        // wait ended first (not settled): then the caller leaves the database alone
        WorkerPool<String> pool = new WorkerPool<>("restore into " + target.describe(), "backupkit-pg-restore",
                new ConcurrentLinkedQueue<>(streams));
        try {
            pool.execute(workers, stream -> {
                BackupMetadata.Part part = meta.parts().get(stream);
                if (part != null) {
                    partRows.merge(part.table(), copyIn(context, target, part, meta, disableTriggers, pool), Long::sum);
                    return;
                }
                if (meta.copyData() && shards.containsKey(stream)) {
                    copyShardIn(context, target, stream, shards.get(stream), meta, chosen, disableTriggers, pool);
                    return;
                }
                String list = listFor(context, tools, files, stream, meta, chosen, pool);
                CommandSpec.Builder b = tools.command("pg_restore").args(baseArgs(target, stream));
                if (disableTriggers) {
                    // a data-only restore into a schema with foreign keys would otherwise depend on stream order
                    b.arg("--disable-triggers");
                }
                if (list != null) {
                    b.arg("--use-list=" + list);
                }
                check(pipe(context, tools, b.build(), stream, "restoring " + stream, pool), stream, target);
            });
        } finally {
            if (!pool.settled()) {
                // an interrupted restore whose bounded wait ended first: a stream may still write
                streamsMayStillRun = true;
            }
        }
        if (!verifying) {
            // a table restored from page ranges is checked like a whole one: its parts' rows add up to what the backup counted
            for (BackupMetadata.Table t : chosen) {
                if (!t.parts().isEmpty() && streams.containsAll(t.parts())) {
                    long restored = partRows.getOrDefault(t.name(), 0L);
                    if (restored != t.rows()) {
                        throw new io.backupkit.IntegrityException("streams " + String.join(", ", t.parts()), "table " + t.name()
                                + ": restored " + restored + " rows from its " + t.parts().size() + " page ranges, the backup counted "
                                + t.rows());
                    }
                }
            }
        }
    }

    /** A connection for writing table data: pinned session settings (as pg_restore has), the owner role, triggers off if asked. */
    private Connection dataConnection(PgConnectionConfig target, String applicationName, boolean disableTriggers) throws SQLException {
        Connection c = Catalog.connect(target, applicationName);
        try {
            Catalog.prepareDataSession(c);
            try (Statement st = c.createStatement()) {
                // what pg_restore sets: input parsed the same way whatever the database's defaults are
                st.execute("SET xmloption = content; SELECT pg_catalog.set_config('search_path', '', false)");
                if (options.owner() != null) {
                    st.execute("SET ROLE " + Catalog.quoteIdent(options.owner()));
                }
                if (disableTriggers) {
                    // what pg_restore --disable-triggers does for its streams
                    st.execute("SET session_replication_role = replica");
                }
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Cancels a data session's statement (a COPY waiting for a lock or a row's function would go on on the server). */
    private static final WorkerPool.Cancel CANCEL_COPY = session -> session.unwrap(org.postgresql.PGConnection.class).cancelQuery();

    /**
     * When COPY rejects data, reads the rest of the stream first: if its checksum fails the real
     * cause is a damaged stream, reported as such (the server's parse error, a consequence, is
     * attached); otherwise the COPY error stands.
     */
    private static RuntimeException damagedOr(InputStream in, EngineException copyError) {
        try {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (io.backupkit.IntegrityException damaged) {
            damaged.addSuppressed(copyError);
            return damaged;
        } catch (IOException | RuntimeException ignored) {
            // the COPY error is the better report
        }
        return copyError;
    }

    /** COPY … FROM STDIN for the given columns, reading the data in the encoding it was written in. */
    private static String copyInSql(String schema, String name, List<String> columns, String encoding) {
        return "COPY " + Catalog.qualified(schema, name)
                + (columns.isEmpty() ? "" : " (" + String.join(", ", columns.stream().map(Catalog::quoteIdent).toList()) + ")")
                + " FROM STDIN" + (encoding == null ? "" : " WITH (ENCODING " + Catalog.quoteLiteral(encoding) + ")");
    }

    /** Restores one page range; returns the rows COPY wrote. */
    private long copyIn(RestoreContext context, PgConnectionConfig target, BackupMetadata.Part part, BackupMetadata meta,
                        boolean disableTriggers, WorkerPool<?> pool) {
        // format 1 parts carry no encoding: psql wrote them in its default client encoding, the database's
        String sql = copyInSql(part.schema(), part.name(), part.columns(), part.encoding() != null ? part.encoding() : meta.encoding());
        try (Connection c = dataConnection(target, "backupkit-copy " + part.stream(), disableTriggers);
             WorkerPool.Registration stop = pool.onStopSession(c, CANCEL_COPY);
             InputStream in = context.openStream(part.stream())) {
            try {
                return c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(sql, in);
            } catch (SQLException e) {
                throw damagedOr(in, Catalog.sqlError("COPY of " + part.stream() + " into " + part.table() + " in " + target.describe(), e));
            }
        } catch (SQLException e) {
            throw Catalog.sqlError("COPY of " + part.stream() + " into " + part.table() + " in " + target.describe(), e);
        } catch (IOException e) {
            throw new EngineException("reading stream " + part.stream() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Restores one COPY shard: its tables in order, each up to its {@code \.} line, through one
     * session; tables not chosen are read past. Each table's row count must be the one the backup
     * counted.
     */
    private void copyShardIn(RestoreContext context, PgConnectionConfig target, String stream, List<String> tableNames,
                             BackupMetadata meta, List<BackupMetadata.Table> chosen, boolean disableTriggers, WorkerPool<?> pool) {
        Map<String, BackupMetadata.Table> byName = new LinkedHashMap<>();
        meta.tables().forEach(t -> byName.put(t.name(), t));
        Set<String> wanted = new java.util.HashSet<>();
        chosen.forEach(t -> wanted.add(t.name()));
        String current = null;
        try (Connection c = dataConnection(target, "backupkit-copy " + stream, disableTriggers);
             WorkerPool.Registration stop = pool.onStopSession(c, CANCEL_COPY);
             InputStream in = context.openStream(stream)) {
            org.postgresql.copy.CopyManager copy = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
            CopyStreams.SegmentReader segments = new CopyStreams.SegmentReader(in, stream);
            for (String name : tableNames) {
                current = name;
                BackupMetadata.Table t = byName.get(name);
                InputStream segment = segments.nextSegment();
                if (t == null || (selective() && !wanted.contains(name))) {
                    segment.transferTo(java.io.OutputStream.nullOutputStream());
                    continue;
                }
                long rows;
                try {
                    rows = copy.copyIn(copyInSql(t.schema(), t.table(), t.columns(), meta.copyEncoding()), segment);
                } catch (SQLException e) {
                    throw damagedOr(in, Catalog.sqlError("COPY of table " + name + " from " + stream + " into " + target.describe(), e));
                }
                if (rows != t.rows() && !verifying) {
                    throw new io.backupkit.IntegrityException("stream " + stream, "table " + name + ": restored " + rows
                            + " rows, the backup counted " + t.rows());
                }
            }
            current = null;
            if (!segments.atEnd()) {
                throw new io.backupkit.IntegrityException("stream " + stream, "more data follows its last table, " + tableNames.get(
                        tableNames.size() - 1) + ": the stream does not match the snapshot's metadata");
            }
            // read to the end, so the stream's checksum is verified
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (SQLException e) {
            throw Catalog.sqlError("COPY of " + (current == null ? stream : "table " + current + " from " + stream) + " into "
                    + target.describe(), e);
        } catch (IOException e) {
            throw new EngineException("reading stream " + stream + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Sets every restored sequence to its saved state (format 2). pg_dump never wrote the values of
     * sequences whose tables it did not dump, which lost the identity sequences of tables dumped in
     * page ranges; now every value comes from the manifest. In a selective restore only the
     * sequences of chosen tables and free-standing ones, as the table of contents filter keeps.
     */
    private void restoreSequences(PgConnectionConfig target, BackupMetadata meta, List<BackupMetadata.Table> chosen) {
        List<BackupMetadata.Sequence> all = meta.sequences();
        if (all.isEmpty()) {
            return;
        }
        Set<String> chosenNames = new java.util.HashSet<>();
        chosen.forEach(t -> chosenNames.add(t.name()));
        List<BackupMetadata.Sequence> seqs = all.stream()
                .filter(s -> !selective() || s.ownedBy() == null || chosenNames.contains(s.ownedBy())).toList();
        try (Connection c = dataConnection(target, "backupkit-restore-sequences", false)) {
            for (int from = 0; from < seqs.size(); from += 1000) {
                List<BackupMetadata.Sequence> batch = seqs.subList(from, Math.min(seqs.size(), from + 1000));
                try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT count(pg_catalog.setval(r, v.last, v.called)) "
                        + "FROM unnest(?::text[], ?::int8[], ?::bool[]) AS v(name, last, called) "
                        + "CROSS JOIN LATERAL pg_catalog.to_regclass(v.name) AS r WHERE r IS NOT NULL")) {
                    ps.setArray(1, c.createArrayOf("text", batch.stream().map(s -> Catalog.qualified(s.schema(), s.sequence())).toArray()));
                    ps.setArray(2, c.createArrayOf("int8", batch.stream().map(BackupMetadata.Sequence::lastValue).toArray()));
                    ps.setArray(3, c.createArrayOf("bool", batch.stream().map(BackupMetadata.Sequence::isCalled).toArray()));
                    ps.executeQuery().close();
                }
            }
        } catch (SQLException e) {
            throw Catalog.sqlError("setting sequence values in " + target.describe(), e);
        }
    }

    private void restorePostData(RestoreContext context, ToolRunner tools, ToolFiles files, PgConnectionConfig target,
                                 BackupMetadata meta, List<BackupMetadata.Table> chosen) {
        // pg_restore -j needs a seekable archive, so post-data goes to a file first. It holds only the DDL
        // of indexes, constraints and triggers (a few KB to MB), never table data.
        String archive;
        try (InputStream in = context.openStream(LogicalBackup.POST_DATA)) {
            archive = files.write("post-data.dump", in);
        } catch (IOException e) {
            throw new EngineException("reading stream " + LogicalBackup.POST_DATA + " failed: " + e.getMessage(), e);
        }
        String list = listFor(context, tools, files, LogicalBackup.POST_DATA, meta, chosen);
        CommandSpec.Builder b = tools.command("pg_restore").args(baseArgs(target, LogicalBackup.POST_DATA))
                .arg("--jobs=" + Math.max(1, context.parallelism()));
        if (list != null) {
            b.arg("--use-list=" + list);
        }
        b.arg(archive);
        check(tools.run("pg_restore", b.build(), null), LogicalBackup.POST_DATA, target);
    }

    private void check(ToolRunner.Result r, String stream, PgConnectionConfig target) {
        if (r.exitCode() != 0) {
            throw new EngineException("pg_restore of " + stream + " into " + target.describe() + " failed with exit code " + r.exitCode(),
                    r.exitCode(), r.stderr(), null);
        }
    }

    /** Runs a tool with a snapshot stream on stdin, copying on this thread; stdout is collected (small: lists only). */
    private ToolRunner.Result pipe(RestoreContext context, ToolRunner tools, CommandSpec spec, String stream, String what) {
        return pipe(context, tools, spec, stream, what, null);
    }

    /** {@link #pipe(RestoreContext, ToolRunner, CommandSpec, String, String)} with the child destroyed when {@code pool} stops. */
    private ToolRunner.Result pipe(RestoreContext context, ToolRunner tools, CommandSpec spec, String stream, String what,
                                   WorkerPool<?> pool) {
        RunningCommand rc = tools.start("pg_restore", spec);
        if (pool != null) {
            pool.track(rc);
        }
        try {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "pg_restore");
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            Thread outPump = ToolRunner.daemon("pg_restore-stdout", () -> {
                try (InputStream o = rc.stdout()) {
                    o.transferTo(out);
                } catch (IOException ignored) {
                    // process ended
                }
            });
            IOException writeFailure = null;
            try (InputStream in = context.openStream(stream); OutputStream toTool = rc.stdin()) {
                LogicalBackup.copy(in, toTool);
            } catch (IOException e) {
                // pg_restore --list stops reading after the table of contents; its exit status tells whether that was fine
                writeFailure = e;
            }
            int exit = rc.waitFor();
            outPump.join();
            String tail = err.await();
            if (writeFailure != null && exit == 0 && !spec.command().contains("--list")) {
                throw new EngineException(what + ": pg_restore stopped reading its input: " + writeFailure.getMessage(), writeFailure);
            }
            return new ToolRunner.Result(exit, out.toString(java.nio.charset.StandardCharsets.UTF_8), tail);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while " + what, e);
        } finally {
            // untracked before it is closed: a stop racing the close would destroy a child being reaped
            if (pool != null) {
                pool.untrack(rc);
            }
            rc.close();
        }
    }

    private boolean isSuperuser(PgConnectionConfig target) {
        try (Connection c = Catalog.connect(target, "backupkit-restore"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")) {
            return rs.next() && rs.getBoolean(1);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Restores into a scratch database, compares it with the snapshot's metadata, drops it. */
    public List<VerificationCheck> verify(RestoreContext context) {
        Snapshot snapshot = context.snapshot();
        BackupMetadata meta = BackupMetadata.of(snapshot);
        byte[] rnd = new byte[6];
        new SecureRandom().nextBytes(rnd);
        String scratch = "backupkit_verify_" + HexFormat.of().formatHex(rnd);
        LogicalRestore restore = new LogicalRestore(server, options.full().withDatabase(scratch), true);
        List<VerificationCheck> checks = new ArrayList<>();
        String restoreCheck = "restore into scratch database " + scratch;
        try {
            restore.restore(context);
            checks.add(VerificationCheck.passed(restoreCheck, "restored on " + server.host() + ":" + server.port()));
        } catch (BackupException e) {
            if (Thread.currentThread().isInterrupted()) {
                // the caller stopped the verification: no verdict on the snapshot, the interrupt goes up
                throw e;
            }
            checks.add(VerificationCheck.failed(restoreCheck, e.getMessage()));
            return checks;
        }
        PgConnectionConfig target = server.withDatabase(scratch);
        try {
            try (Connection c = Catalog.connect(target, "backupkit-verify")) {
                for (BackupMetadata.Table t : meta.tables()) {
                    if (t.partitioned()) {
                        continue;
                    }
                    String name = "row count " + t.name();
                    try {
                        long actual = Catalog.countRows(c, t.schema(), t.table());
                        checks.add(actual == t.rows() ? VerificationCheck.passed(name, actual + " rows")
                                : VerificationCheck.failed(name, "expected " + t.rows() + " rows (snapshot metadata), restored " + actual));
                    } catch (SQLException e) {
                        checks.add(VerificationCheck.failed(name, "cannot count rows: " + e.getMessage()));
                    }
                }
                checks.add(sequenceCheck(c, meta));
                String fp = Catalog.schemaFingerprint(c);
                checks.add(fp.equals(meta.schemaFingerprint())
                        ? VerificationCheck.passed("schema fingerprint", fp)
                        : VerificationCheck.failed("schema fingerprint", "expected " + meta.schemaFingerprint() + ", restored schema has " + fp));
                checks.add(amcheck(c));
            }
        } catch (SQLException | RuntimeException e) {
            checks.add(VerificationCheck.failed("compare scratch database " + scratch, e.getMessage()));
        } finally {
            try (Connection m = Catalog.connect(maintenance(), "backupkit-verify"); Statement st = m.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + Catalog.quoteIdent(scratch) + " WITH (FORCE)");
                checks.add(VerificationCheck.passed("drop scratch database " + scratch, "dropped"));
            } catch (SQLException | RuntimeException e) {
                checks.add(VerificationCheck.failed("drop scratch database " + scratch, e.getMessage()));
            }
        }
        return checks;
    }

    /** Every saved sequence value (format 2) against the restored one. */
    private static VerificationCheck sequenceCheck(Connection c, BackupMetadata meta) {
        String name = "sequence values";
        List<BackupMetadata.Sequence> seqs = meta.sequences();
        if (seqs.isEmpty()) {
            return VerificationCheck.skipped(name, meta.copyData() ? "the database has no sequences"
                    : "this snapshot format keeps sequence values inside the pg_dump archives");
        }
        Map<String, String> restored = new java.util.HashMap<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT schemaname || '.' || sequencename, "
                + "last_value FROM pg_catalog.pg_sequences")) {
            while (rs.next()) {
                restored.put(rs.getString(1), rs.getString(2));
            }
        } catch (SQLException e) {
            return VerificationCheck.failed(name, "cannot read sequences: " + e.getMessage());
        }
        List<String> wrong = new ArrayList<>();
        for (BackupMetadata.Sequence s : seqs) {
            // pg_sequences shows NULL for a sequence that was never called
            String expected = s.isCalled() ? Long.toString(s.lastValue()) : null;
            String actual = restored.get(s.schema() + "." + s.sequence());
            if (!restored.containsKey(s.schema() + "." + s.sequence()) || !java.util.Objects.equals(expected, actual)) {
                wrong.add(s.name() + " expected " + (expected == null ? "unused" : expected) + ", restored "
                        + (restored.containsKey(s.schema() + "." + s.sequence()) ? (actual == null ? "unused" : actual) : "missing"));
            }
        }
        return wrong.isEmpty() ? VerificationCheck.passed(name, seqs.size() + " sequences as saved")
                : VerificationCheck.failed(name, wrong.size() + " of " + seqs.size() + " differ: "
                + (wrong.size() > 10 ? wrong.subList(0, 10) + " …" : wrong));
    }

    private VerificationCheck amcheck(Connection c) {
        String name = "btree index check (amcheck)";
        try (Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'")) {
                if (!rs.next()) {
                    return VerificationCheck.skipped(name, "the amcheck extension is not available on this server");
                }
            }
            st.execute("CREATE EXTENSION IF NOT EXISTS amcheck");
            Map<String, String> failures = new LinkedHashMap<>();
            int checked = 0;
            List<String[]> indexes = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("SELECT ic.oid, n.nspname || '.' || ic.relname FROM pg_index i "
                    + "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam "
                    + "JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE am.amname = 'btree' AND ic.relkind = 'i' "
                    + "AND i.indisvalid AND " + Catalog.USER_NAMESPACE + " ORDER BY 2")) {
                while (rs.next()) {
                    indexes.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
            for (String[] idx : indexes) {
                try (ResultSet rs = st.executeQuery("SELECT bt_index_check(" + idx[0] + "::regclass, true)")) {
                    rs.next();
                    checked++;
                } catch (SQLException e) {
                    failures.put(idx[1], e.getMessage());
                }
            }
            if (!failures.isEmpty()) {
                return VerificationCheck.failed(name, "corrupt indexes: " + failures);
            }
            return VerificationCheck.passed(name, checked + " btree indexes checked with heapallindexed");
        } catch (SQLException e) {
            return VerificationCheck.skipped(name, "amcheck could not run: " + e.getMessage());
        }
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
