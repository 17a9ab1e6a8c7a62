package io.backupkit.postgres.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationCheck;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Restores a logical snapshot: creates the database (original encoding and locale, from template0),
 * restores pre-data, then the data streams in parallel (one pg_restore per stream, fed from the
 * repository through stdin), then post-data with {@code pg_restore -j}. Removes a database it
 * created when anything fails.
 */
public final class LogicalRestore {
    private static final Logger LOG = LoggerFactory.getLogger(LogicalRestore.class);

    private final PgConnectionConfig server;
    private final RestoreOptions options;

    public LogicalRestore(PgConnectionConfig server, RestoreOptions options) {
        this.server = server;
        this.options = options;
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
        if (exists && options.dropExisting()) {
            actions.add("drop database " + db + " (existing, " + human(existingSize) + ")");
        }
        if (!options.dataOnly()) {
            actions.add("create database " + db + " (encoding " + meta.encoding() + ", lc_collate " + meta.lcCollate() + ", lc_ctype "
                    + meta.lcCtype() + ", template0)");
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
                    actions.add("restore sequence values, large objects and other data (" + stream + ", " + human(s) + ")");
                }
            }
            for (BackupMetadata.Table t : chosen) {
                if (!t.partitioned()) {
                    actions.add("restore table " + t.name() + " (" + t.rows() + " rows, " + human(t.bytes()) + " on the source) from "
                            + (t.parts().isEmpty() ? t.stream() : t.parts().size() + " parallel parts " + String.join(", ", t.parts())));
                }
            }
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
        if (!options.dataOnly() && !meta.databaseSettings().isEmpty()) {
            actions.add("apply database settings " + meta.databaseSettings());
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
        long start = System.nanoTime();
        try (Connection m = Catalog.connect(maintenance(), "backupkit-restore")) {
            boolean exists = Catalog.databaseExists(m, db);
            checkTargetState(db, exists);
            if (exists && options.dropExisting()) {
                LOG.info("dropping existing database {} on {}:{}", db, server.host(), server.port());
                try (Statement st = m.createStatement()) {
                    st.execute("DROP DATABASE " + Catalog.quoteIdent(db) + " WITH (FORCE)");
                }
            }
            if (!options.dataOnly()) {
                try (Statement st = m.createStatement()) {
                    st.execute(createDatabaseSql(db, meta));
                }
                created = true;
            }
            PgConnectionConfig target = server.withDatabase(db);
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
            if (!options.dataOnly()) {
                // last, so a setting like default_transaction_read_only cannot get in the restore's way
                applyDatabaseSettings(m, db, meta.databaseSettings());
            }
            LOG.info("restored snapshot {} into {} in {} ms", snapshot.shortId(), target.describe(), (System.nanoTime() - start) / 1_000_000);
        } catch (SQLException | RuntimeException e) {
            if (created) {
                dropQuietly(db, e);
            }
            if (e instanceof SQLException se) {
                throw Catalog.sqlError("restore into " + server.withDatabase(db).describe(), se);
            }
            throw (RuntimeException) e;
        }
    }

    private static final java.util.Set<String> LIST_SETTINGS = java.util.Set.of("search_path", "temp_tablespaces",
            "session_preload_libraries", "shared_preload_libraries", "local_preload_libraries");

    private static void applyDatabaseSettings(Connection m, String db, List<String> settings) throws SQLException {
        for (String setting : settings) {
            int eq = setting.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String name = setting.substring(0, eq);
            String value = setting.substring(eq + 1);
            // list settings are stored already quoted element by element; the rest is one literal
            String sqlValue = LIST_SETTINGS.contains(name.toLowerCase(java.util.Locale.ROOT)) ? value : Catalog.quoteLiteral(value);
            try (Statement st = m.createStatement()) {
                st.execute("ALTER DATABASE " + Catalog.quoteIdent(db) + " SET " + Catalog.quoteIdent(name) + " TO " + sqlValue);
            }
        }
    }

    private void dropQuietly(String db, Exception cause) {
        try (Connection m = Catalog.connect(maintenance(), "backupkit-restore-cleanup"); Statement st = m.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + Catalog.quoteIdent(db) + " WITH (FORCE)");
            LOG.info("restore into {} failed; removed the database it had created", db);
        } catch (SQLException | RuntimeException e) {
            cause.addSuppressed(new EngineException("could not remove the partly restored database " + db + ": " + e.getMessage(), e));
        }
    }

    String createDatabaseSql(String db, BackupMetadata meta) {
        StringBuilder sb = new StringBuilder("CREATE DATABASE ").append(Catalog.quoteIdent(db)).append(" WITH TEMPLATE template0");
        if (meta.encoding() != null) {
            sb.append(" ENCODING ").append(Catalog.quoteLiteral(meta.encoding()));
        }
        if ("i".equals(meta.localeProvider()) && meta.iculocale() != null) {
            sb.append(" LOCALE_PROVIDER icu ICU_LOCALE ").append(Catalog.quoteLiteral(meta.iculocale()));
        }
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
        if (options.noOwner()) {
            args.add("--no-owner");
        }
        if (options.noPrivileges()) {
            args.add("--no-privileges");
        }
        return args;
    }

    /** A -L list for a stream when restoring selectively; null to restore the whole stream. */
    private String listFor(RestoreContext context, ToolRunner tools, ToolFiles files, String stream, BackupMetadata meta,
                           List<BackupMetadata.Table> chosen) {
        if (!selective()) {
            return null;
        }
        CommandSpec spec = tools.command("pg_restore").arg("--list").build();
        String toc = pipe(context, tools, spec, stream, "listing " + stream).stdout();
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
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(streams);
        AtomicBoolean failed = new AtomicBoolean();
        AtomicReference<RuntimeException> first = new AtomicReference<>();
        boolean disableTriggers = options.dataOnly() && isSuperuser(target);
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "backupkit-pg_restore-data");
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            futures.add(pool.submit(() -> {
                String stream;
                while (!failed.get() && (stream = queue.poll()) != null) {
                    try {
                        BackupMetadata.Part part = meta.parts().get(stream);
                        if (part != null) {
                            copyIn(context, target, part, disableTriggers);
                            continue;
                        }
                        String list = listFor(context, tools, files, stream, meta, chosen);
                        CommandSpec.Builder b = tools.command("pg_restore").args(baseArgs(target, stream));
                        if (disableTriggers) {
                            // a data-only restore into a schema with foreign keys would otherwise depend on stream order
                            b.arg("--disable-triggers");
                        }
                        if (list != null) {
                            b.arg("--use-list=" + list);
                        }
                        check(pipe(context, tools, b.build(), stream, "restoring " + stream), stream, target);
                    } catch (RuntimeException e) {
                        first.compareAndSet(null, e);
                        failed.set(true);
                        throw e;
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                first.compareAndSet(null, e.getCause() instanceof RuntimeException r ? r : new EngineException("restore worker failed", e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException("restore interrupted", e);
            }
        }
        if (first.get() != null) {
            throw first.get();
        }
    }

    private void copyIn(RestoreContext context, PgConnectionConfig target, BackupMetadata.Part part, boolean disableTriggers) {
        String sql = "COPY " + Catalog.qualified(part.schema(), part.name()) + " ("
                + part.columns().stream().map(Catalog::quoteIdent).collect(java.util.stream.Collectors.joining(", ")) + ") FROM STDIN";
        try (Connection c = Catalog.connect(target, "backupkit-copy " + part.stream());
             InputStream in = context.openStream(part.stream())) {
            Catalog.prepareDataSession(c);
            if (disableTriggers) {
                try (Statement st = c.createStatement()) {
                    // what pg_restore --disable-triggers does for its streams
                    st.execute("SET session_replication_role = replica");
                }
            }
            c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(sql, in);
        } catch (SQLException e) {
            throw Catalog.sqlError("COPY of " + part.stream() + " into " + part.table() + " in " + target.describe(), e);
        } catch (IOException e) {
            throw new EngineException("reading stream " + part.stream() + " failed: " + e.getMessage(), e);
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
        try (RunningCommand rc = tools.start("pg_restore", spec)) {
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
        LogicalRestore restore = new LogicalRestore(server, options.full().withDatabase(scratch));
        List<VerificationCheck> checks = new ArrayList<>();
        String restoreCheck = "restore into scratch database " + scratch;
        try {
            restore.restore(context);
            checks.add(VerificationCheck.passed(restoreCheck, "restored on " + server.host() + ":" + server.port()));
        } catch (BackupException e) {
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
