package io.backupkit.postgres.internal;

import io.backupkit.EngineException;
import io.backupkit.internal.Futures;
import io.backupkit.internal.WorkerPool;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One logical backup: a REPEATABLE READ transaction exports its snapshot and holds ACCESS SHARE
 * on every table; in that snapshot, data sessions COPY table data (this JVM's, read in bulk by
 * {@link JdbcCopy}, or psql's where the tools run elsewhere; whole tables grouped into
 * size-balanced shards, big tables split into page ranges) and pg_dump writes pre-data, post-data
 * and the remaining data (large objects, extension configuration tables), each straight into its
 * own stream. pg_dumpall writes the cluster's roles and tablespaces into their own stream. The
 * exporting transaction stays open until every child is done.
 *
 * <p>Table data goes through COPY rather than {@code pg_dump --table=…}: pg_dump resolves each
 * {@code --table} pattern with its own catalog query (quadratic in the number of tables) and all
 * patterns must fit on one command line, which tens of thousands of partitions do not. A data
 * session sends its COPY commands one by one (psql reads them from stdin), so neither limit exists.
 */
public final class LogicalBackup {
    /** Format 2: table data as COPY text (shards of several tables, separated by {@code \.} lines), sequence values in the manifest. */
    public static final String FORMAT = "backupkit-postgres-logical/2";
    /** Format 1 (backupkit 0.1): table data as pg_dump custom-format archives, one per shard. Still restored. */
    public static final String FORMAT_V1 = "backupkit-postgres-logical/1";
    public static final String PRE_DATA = "pre-data";
    public static final String POST_DATA = "post-data";
    public static final String OTHER_DATA = "data-other";
    public static final String GLOBALS = "globals";
    private static final Logger LOG = LoggerFactory.getLogger(LogicalBackup.class);
    private static final Pattern PG_DUMP_LOCK = Pattern.compile("LOCK TABLE (.+?) IN ACCESS SHARE MODE");

    /** Tables smaller than this are never split: a COPY of them is quick anyway. */
    static final long MIN_SPLIT_BYTES = 32L << 20;

    /** What a PostgresSource was told to do. */
    public record Options(Path toolDirectory, int jobs, boolean splitLargeTables, Duration lockWaitTimeout, boolean globals,
                          boolean rolePasswords) {
    }

    private final PgConnectionConfig cfg;
    private final Options options;

    public LogicalBackup(PgConnectionConfig cfg, Options options) {
        this.cfg = cfg;
        this.options = options;
    }

    /**
     * One page range of a large table, dumped by COPY in the exported snapshot into its own stream.
     * Parallelism by table would let one table bigger than a fair share bound the whole backup;
     * since PostgreSQL 14 a ctid range is a TID range scan that reads only its pages.
     */
    record TablePart(String stream, Catalog.TableInfo table, List<String> columns, long fromPage, long toPage, String encoding) {
        long weight() {
            return table.pages() == 0 ? table.bytes() : table.bytes() * Math.max(1, (toPage < 0 ? table.pages() : toPage) - fromPage)
                    / table.pages();
        }

        String copySql() {
            String cols = columns.isEmpty() ? "" : String.join(", ", columns.stream().map(Catalog::quoteIdent).toList());
            return "COPY (SELECT " + cols + " FROM ONLY " + table.sql() + " WHERE ctid >= '(" + fromPage + ",0)'::tid"
                    + (toPage < 0 ? "" : " AND ctid < '(" + toPage + ",0)'::tid") + ") TO STDOUT WITH (ENCODING "
                    + Catalog.quoteLiteral(encoding) + ")";
        }

        Map<String, Object> metadata() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("table", table.qualifiedName());
            m.put("schema", table.schema());
            m.put("name", table.name());
            m.put("columns", columns);
            m.put("fromPage", fromPage);
            m.put("toPage", toPage);
            m.put("format", "copy-text");
            m.put("encoding", encoding);
            return m;
        }
    }

    public static String shardStreamName(int index) {
        return String.format("data-%04d", index + 1);
    }

    /** COPY of one whole table in the database's own encoding (no conversion, whatever the session's client_encoding). */
    static String copyTableSql(Catalog.TableInfo t, List<String> columns, String encoding) {
        return "COPY " + t.sql() + (columns.isEmpty() ? "" : " (" + String.join(", ", columns.stream().map(Catalog::quoteIdent).toList()) + ")")
                + " TO STDOUT WITH (ENCODING " + Catalog.quoteLiteral(encoding) + ")";
    }

    public void run(BackupContext context) {
        ToolRunner tools = new ToolRunner(context.commandExecutor(), options.toolDirectory(), cfg);
        long started = System.nanoTime();
        PriorityBlockingQueue<Task> queue = new PriorityBlockingQueue<>(16, Comparator.comparingLong(Task::weight).reversed());
        WorkerPool<Task> pool = new WorkerPool<>("backup of " + cfg.describe(), "backupkit-pg-backup", queue);
        // dumps started ahead of their turn (see runTasks), by stream; a stored one is gone from the map
        Map<String, Started> early = new ConcurrentHashMap<>();
        try {
            // the tools' versions (a process each) are read beside the leader's connect, not one after another before it
            CompletableFuture<ToolRunner.Version> dumpVersion = Futures.onDaemonThread("backupkit-pg_dump-version", () -> tools.version("pg_dump"));
            CompletableFuture<ToolRunner.Version> restoreVersion = Futures.onDaemonThread("backupkit-pg_restore-version", () -> tools.version("pg_restore"));
            backup(context, tools, started, dumpVersion, restoreVersion, queue, pool, early);
        } finally {
            // a failed backup leaves dumps it never got to: stop them
            for (Started st : early.values()) {
                pool.untrack(st.rc());
                st.rc().close();
            }
        }
    }

    private void backup(BackupContext context, ToolRunner tools, long started, CompletableFuture<ToolRunner.Version> dumpVersionCheck,
                        CompletableFuture<ToolRunner.Version> restoreVersionCheck, PriorityBlockingQueue<Task> queue,
                        WorkerPool<Task> pool, Map<String, Started> early) {
        int leaderPid = -1;
        try (Connection c = Catalog.connect(cfg, "backupkit-backup")) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                leaderPid = rs.getInt(1);
            }
            if (tools.local() && options.globals()) {
                // roles and tablespaces are not in the snapshot: pg_dumpall does its ~60 ms of queries beside the catalog
                // phase; started once the leader is in, so a wrong password fails one login, not two
                startEarly(tools, "pg_dumpall", globalsSpec(tools), GLOBALS, GLOBALS_READ_AHEAD, pool, early);
            }
            String serverVersion = Catalog.serverVersion(c);
            PgVersion version = PgVersion.of(Catalog.serverVersionNum(c)).requireSupported(cfg.host() + ":" + cfg.port());
            int serverMajor = version.major();
            ToolRunner.Version dumpVersion = Futures.join(dumpVersionCheck);
            if (dumpVersion.major() < serverMajor) {
                throw new EngineException("pg_dump " + dumpVersion + " at " + tools.program("pg_dump") + " is older than the server "
                        + cfg.host() + ":" + cfg.port() + " (PostgreSQL " + serverVersion + "); pg_dump must be at least major version "
                        + serverMajor + ": install postgresql-client-" + serverMajor + " or newer and set toolDirectory to its bin directory");
            }
            ToolRunner.Version restoreVersion = Futures.join(restoreVersionCheck);
            boolean standby = Catalog.inRecovery(c);

            Catalog.prepareDataSession(c);
            try (Statement st = c.createStatement()) {
                // the leader waits for its locks no longer than the children do
                st.execute("SET lock_timeout = " + lockTimeoutMs());
            }
            c.setAutoCommit(false);
            String snapshotId;
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                    rs.next();
                    snapshotId = rs.getString(1);
                }
            }
            Map<String, Object> db = Catalog.databaseInfo(c, version);
            String encoding = (String) db.get("encoding");
            List<Catalog.TableInfo> tables = Catalog.tables(c);
            lockTables(c, tables);
            pool.throwIfStopped();
            Map<Long, List<String>> owned = Catalog.ownedSequences(c);
            Map<Long, List<String>> indexes = Catalog.indexes(c);
            Map<Long, List<String>> refs = Catalog.references(c);
            Map<Long, List<String>> columnsOf = Catalog.copyColumnsOfAll(c);
            String fingerprint = Catalog.schemaFingerprint(c);
            List<Map<String, Object>> extensions = Catalog.extensions(c);
            long largeObjects = Catalog.largeObjectCount(c);
            Map<String, List<String>> roles = Catalog.referencedRoles(c);
            List<String> otherArgs = otherDataArgs(c);
            List<Task> dumps = List.of(Task.dump(PRE_DATA, List.of("--section=" + PRE_DATA)), Task.dump(OTHER_DATA, otherArgs),
                    Task.dump(POST_DATA, List.of("--section=" + POST_DATA)));
            if (tools.local()) {
                for (Task dump : dumps) {
                    // the schema dumps read the catalog beside the data, not before it: started beside the leader's
                    // catalog queries they slowed that phase as much as they saved (runTasks says why early at all);
                    // data-other only without large objects and extension configuration tables: then it is an
                    // archive of a few hundred bytes, which fits in the pipe, so it never stops mid-query
                    if (!dump.stream().equals(OTHER_DATA) || largeObjects == 0 && otherArgs.equals(NOTHING_ELSE)) {
                        startEarly(tools, "pg_dump", dumpSpec(tools, snapshotId, dump, encoding), dump.stream(), 0, pool, early);
                    }
                }
            }

            // a standby cannot read unlogged tables (their data is not replicated): like pg_dump, leave their rows out
            List<Catalog.TableInfo> skipped = tables.stream().filter(t -> !t.partitioned() && standby && t.unlogged()).toList();
            List<Catalog.TableInfo> dataTables = tables.stream().filter(t -> !t.partitioned() && !skipped.contains(t)).toList();
            int shardCount = Math.max(1, Math.min(options.jobs() > 0 ? options.jobs() : context.parallelism(), context.parallelism()));
            long totalBytes = dataTables.stream().mapToLong(Catalog.TableInfo::bytes).sum();
            long fairShare = totalBytes / shardCount;
            List<Catalog.TableInfo> wholeTables = new ArrayList<>();
            List<Catalog.TableInfo> splitTables = new ArrayList<>();
            for (Catalog.TableInfo t : dataTables) {
                boolean split = options.splitLargeTables() && shardCount > 1 && version.tidRangeScans() && t.bytes() >= MIN_SPLIT_BYTES
                        && t.bytes() > fairShare && t.pages() >= shardCount;
                (split ? splitTables : wholeTables).add(t);
            }
            List<ShardPlanner.Shard> shards = ShardPlanner.plan(wholeTables, shardCount);
            List<TablePart> parts = new ArrayList<>();
            Map<Long, List<String>> partsOf = new LinkedHashMap<>();
            int streamNo = shards.size();
            for (Catalog.TableInfo t : splitTables) {
                int k = (int) Math.min(shardCount, Math.max(2, (t.bytes() + fairShare - 1) / Math.max(1, fairShare)));
                List<String> columns = columnsOf.getOrDefault(t.oid(), List.of());
                for (int i = 0; i < k; i++) {
                    long from = t.pages() * i / k;
                    // the last range is open-ended, so rows on pages past the size estimate are never lost
                    long to = i == k - 1 ? -1 : t.pages() * (i + 1) / k;
                    TablePart part = new TablePart(shardStreamName(streamNo++), t, columns, from, to, encoding);
                    parts.add(part);
                    partsOf.computeIfAbsent(t.oid(), x -> new ArrayList<>()).add(part.stream());
                }
            }
            Map<Long, String> streamOf = new LinkedHashMap<>();
            Map<String, List<String>> shardTables = new LinkedHashMap<>();
            for (ShardPlanner.Shard s : shards) {
                List<String> names = new ArrayList<>();
                for (Catalog.TableInfo t : s.tables()) {
                    streamOf.put(t.oid(), shardStreamName(s.index()));
                    names.add(t.qualifiedName());
                }
                shardTables.put(shardStreamName(s.index()), names);
            }
            context.expectedBytes(totalBytes);

            db.forEach((k, v) -> {
                if (v != null) {
                    context.putMetadata(k, v);
                }
            });
            context.putMetadata("format", FORMAT);
            context.putMetadata("dataFormat", "copy-text");
            // every COPY stream is in the database's own encoding (COPY … WITH (ENCODING …)), replayed with the same option
            context.putMetadata("copyEncoding", encoding);
            context.putMetadata("dumpEncoding", encoding);
            context.putMetadata("standby", standby);
            context.putMetadata("lockWaitTimeoutMs", options.lockWaitTimeout().toMillis());
            context.putMetadata("pgDumpVersion", dumpVersion.toString());
            context.putMetadata("pgRestoreVersion", restoreVersion.toString());
            context.putMetadata("tableBytes", totalBytes);
            context.putMetadata("extensions", extensions);
            context.putMetadata("schemaFingerprint", fingerprint);
            context.putMetadata("largeObjects", largeObjects);
            context.putMetadata("roles", roles);
            context.putMetadata("shards", shardTables);
            Map<String, Object> partMeta = new LinkedHashMap<>();
            parts.forEach(p -> partMeta.put(p.stream(), p.metadata()));
            context.putMetadata("parts", partMeta);
            if (options.globals()) {
                context.putMetadata("globals", GLOBALS);
                context.putMetadata("globalsIncludePasswords", options.rolePasswords());
            }

            // tasks largest first; pg_dump's output is stored as shards finish (it was started beside them)
            List<Task> tasks = new ArrayList<>();
            for (ShardPlanner.Shard s : shards) {
                tasks.add(Task.copy(shardStreamName(s.index()), s.bytes() + 1, s.tables()));
            }
            for (TablePart p : parts) {
                tasks.add(Task.part(p));
            }
            tasks.addAll(dumps);
            long prepared = System.nanoTime();
            if (options.globals()) {
                queue.add(new Task(GLOBALS, globalsLast(early.get(GLOBALS)) ? 0 : Long.MAX_VALUE, Task.Kind.GLOBALS, List.of(), null,
                        List.of()));
            }
            pool.throwIfStopped();
            queue.addAll(tasks);
            Map<String, Long> rows = runTasks(context, tools, snapshotId, pool, early, shardCount, columnsOf, encoding);
            // sequences are not transactional: read now, after the data, so no row holds a value above the saved one
            List<Catalog.SequenceState> sequences = Catalog.sequences(c, standby);
            LOG.info("backup of {}: {} tables ({} split into {} page ranges) in {} data streams, {} sequences; catalog {} ms, data {} ms",
                    cfg.describe(), dataTables.size(), splitTables.size(), parts.size(), shards.size() + parts.size(), sequences.size(),
                    (prepared - started) / 1_000_000, (System.nanoTime() - prepared) / 1_000_000);
            List<Map<String, Object>> seqMeta = new ArrayList<>();
            for (Catalog.SequenceState s : sequences) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", s.qualifiedName());
                m.put("schema", s.schema());
                m.put("sequence", s.name());
                m.put("lastValue", s.lastValue());
                m.put("isCalled", s.isCalled());
                if (s.ownedBy() != null) {
                    m.put("ownedBy", s.ownedBy());
                }
                seqMeta.add(m);
            }
            context.putMetadata("sequences", seqMeta);

            List<Map<String, Object>> tableMeta = new ArrayList<>();
            for (Catalog.TableInfo t : tables) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", t.qualifiedName());
                m.put("schema", t.schema());
                m.put("table", t.name());
                m.put("partitioned", t.partitioned());
                if (t.parent() != null) {
                    m.put("parent", t.parent());
                }
                m.put("rows", rows.getOrDefault(t.qualifiedName(), 0L));
                m.put("bytes", t.bytes());
                m.put("stream", streamOf.get(t.oid()));
                m.put("parts", partsOf.getOrDefault(t.oid(), List.of()));
                if (!t.partitioned()) {
                    m.put("columns", columnsOf.getOrDefault(t.oid(), List.of()));
                }
                if (t.unlogged()) {
                    m.put("unlogged", true);
                }
                if (skipped.contains(t)) {
                    m.put("dataSkipped", "unlogged table on a standby: its rows exist only on the primary");
                }
                m.put("sequences", owned.getOrDefault(t.oid(), List.of()));
                m.put("indexes", indexes.getOrDefault(t.oid(), List.of()));
                m.put("references", refs.getOrDefault(t.oid(), List.of()));
                tableMeta.add(m);
            }
            context.putMetadata("tables", tableMeta);
            c.commit();
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) {
                // the snapshot session waited too long for a table (its size, or its lock): name the table another session has locked
                throw lockTimeout(exclusivelyLocked(leaderPid), "the backup's own snapshot session", e);
            }
            throw Catalog.sqlError("backup of " + cfg.describe(), e);
        }
    }

    private long lockTimeoutMs() {
        return Math.max(1, options.lockWaitTimeout().toMillis());
    }

    /** The data-other dump's arguments when there are no extension configuration tables: large objects only. */
    private static final List<String> NOTHING_ELSE = List.of("--section=data", "--exclude-schema=*");

    /**
     * The data-other dump: large objects and the rows of extension configuration tables, nothing
     * else (table data is COPYed, sequence values are in the manifest). Without configuration
     * tables, excluding every schema leaves exactly the large objects; with them, each is named
     * (patterns that are ASCII-only and checked to select nothing else), plus {@code -b}.
     */
    private static List<String> otherDataArgs(Connection c) throws SQLException {
        List<String[]> config = Catalog.extensionConfigRelations(c);
        if (config.isEmpty()) {
            return NOTHING_ELSE;
        }
        List<String> args = new ArrayList<>(List.of("--section=data", "-b", "--strict-names"));
        List<String[]> all = Catalog.dumpableRelationNames(c);
        for (String[] rel : config) {
            long matches = all.stream().filter(r -> Catalog.patternMatches(rel[0], rel[1], r[0], r[1])).count();
            if (matches != 1) {
                throw new EngineException("the extension configuration table " + rel[0] + "." + rel[1] + " cannot be selected for pg_dump "
                        + "without also selecting " + (matches - 1) + " other relation(s) whose names differ only in non-ASCII characters; "
                        + "rename one of them");
            }
            args.add("--table=" + Catalog.dumpPattern(rel[0], rel[1]));
        }
        return args;
    }

    /**
     * Takes ACCESS SHARE on every table, like pg_dump's leader, so no table is dropped or rewritten
     * while the children read it: one statement per table, sent as one batch.
     */
    private void lockTables(Connection c, List<Catalog.TableInfo> tables) throws SQLException {
        if (tables.isEmpty()) {
            return;
        }
        try (Statement st = c.createStatement()) {
            for (Catalog.TableInfo t : tables) {
                st.addBatch("LOCK TABLE ONLY " + t.sql() + " IN ACCESS SHARE MODE");
            }
            st.executeBatch();
        } catch (BatchUpdateException e) {
            // the driver reports the first statement's failure as the next exception; its SQLSTATE tells a lock timeout
            throw e.getNextException() != null ? e.getNextException() : e;
        }
    }

    /** Tables another session holds or awaits an ACCESS EXCLUSIVE lock on, for the message; "(unknown)" if none shows. */
    private String exclusivelyLocked(int exceptPid) {
        List<String> names = new ArrayList<>();
        try (Connection d = Catalog.connect(cfg, "backupkit-backup-diagnosis"); Statement st = d.createStatement();
             ResultSet rs = st.executeQuery("SELECT DISTINCT n.nspname || '.' || c.relname FROM pg_locks l "
                     + "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
                     + "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                     + "AND l.mode = 'AccessExclusiveLock' AND l.pid <> " + exceptPid + " AND c.relkind IN ('r', 'p') ORDER BY 1 LIMIT 5")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        } catch (SQLException | RuntimeException e) {
            // only a better message was at stake
        }
        return names.isEmpty() ? "(unknown)" : String.join(", ", names);
    }

    private EngineException lockTimeout(String table, String who, Exception cause) {
        return new EngineException("could not lock table " + table + " on " + cfg.describe() + " within "
                + options.lockWaitTimeout().toMillis() + " ms (" + who + "): another session holds or waits for a conflicting lock on it "
                + "(for example ALTER TABLE, DROP TABLE, TRUNCATE or VACUUM FULL). The backup stopped so that session is not blocked "
                + "behind it; nothing was stored. Retry when the schema change is done, or raise lockWaitTimeout.", cause);
    }

    /** One child process and the stream it writes. */
    private record Task(String stream, long weight, Kind kind, List<String> args, TablePart part, List<Catalog.TableInfo> tables) {
        enum Kind { COPY, PART, DUMP, GLOBALS }

        static Task copy(String stream, long weight, List<Catalog.TableInfo> tables) {
            return new Task(stream, weight, Kind.COPY, List.of(), null, tables);
        }

        static Task part(TablePart p) {
            return new Task(p.stream(), p.weight() + 1, Kind.PART, List.of(), p, List.of());
        }

        static Task dump(String stream, List<String> args) {
            return new Task(stream, 0, Kind.DUMP, args, null, List.of());
        }
    }

    /**
     * Runs the queued tasks on the pool. Dumps that spend most of their time starting and querying the
     * catalog are started ahead of their turn by {@link #backup} where the tools are local: pg_dumpall
     * (roles and tablespaces, outside the snapshot) once the leader has connected, the pre-data and
     * post-data pg_dumps when the catalog phase ends (started beside its queries they slowed it as much as
     * they saved), and data-other with them when it has nothing but a header to write (no large objects,
     * no extension configuration tables). They do that work beside the COPY sessions instead of after them
     * (a backup used to end 0.15–0.4 s after its last COPY, pgbench scale 30, and pg_dumpall, queued first,
     * held one worker ~60 ms before its COPY began); their output waits in the pipe, or they wait on it,
     * until a worker is free to store it, so the streams open at once stay within the context's
     * parallelism. pg_dumpall's output is read ahead into memory, so it ends at once, and it is stored
     * after the data if it has ended by then ({@link #globalsLast}). A waiting pg_dump is idle in its
     * transaction, where pg_dump turns the idle timeouts off, and one that fails (too many connections, a
     * lock timeout) fails the backup at once, not when its turn comes. Not started early: data-other with
     * large objects or configuration tables (they are read while the output is written, so that pg_dump
     * would stop mid-query for as long as the COPYs take), and tools in a pod (an exec session idle for
     * hours meets the kubelet's and the command's timeouts).
     */
    private Map<String, Long> runTasks(BackupContext context, ToolRunner tools, String snapshotId, WorkerPool<Task> run,
                                       Map<String, Started> early, int workers, Map<Long, List<String>> columnsOf, String encoding) {
        Map<String, Long> rows = new ConcurrentHashMap<>();
        run.execute(workers, task -> {
            switch (task.kind()) {
                case COPY -> copyTables(context, tools, snapshotId, task, columnsOf, encoding, run)
                        .forEach((k, v) -> rows.merge(k, v, Long::sum));
                case PART -> rows.merge(task.part().table().qualifiedName(),
                        copyPart(context, tools, snapshotId, task.part(), run), Long::sum);
                case DUMP, GLOBALS -> {
                    // started ahead of its turn, or now
                    Started started = early.remove(task.stream());
                    if (started == null) {
                        started = task.kind() == Task.Kind.GLOBALS ? start(tools, "pg_dumpall", globalsSpec(tools), run)
                                : start(tools, "pg_dump", dumpSpec(tools, snapshotId, task, encoding), run);
                    }
                    store(context, started, task.stream(), run);
                }
            }
        });
        return rows;
    }

    /**
     * Starts a dump ahead of its turn and watches it, so one that fails stops the backup at once; one
     * that cannot start is left to its task. With {@code readAhead} > 0 a thread reads up to that much
     * of its output into memory as it comes, so the dump ends (and its session with it) without waiting
     * for a worker to store it.
     */
    private void startEarly(ToolRunner tools, String tool, CommandSpec spec, String stream, int readAhead, WorkerPool<Task> run,
                            Map<String, Started> early) {
        Started st;
        try {
            st = start(tools, tool, spec, run);
        } catch (EngineException e) {
            // not there, say: its task starts it in its turn and reports that, after the checks that say more (versions)
            return;
        }
        if (readAhead > 0) {
            RunningCommand rc = st.rc();
            st = new Started(st.tool(), rc, st.err(), Futures.onDaemonThread("backupkit-" + tool + "-read-ahead " + stream, () -> {
                try {
                    return rc.stdout().readNBytes(readAhead);
                } catch (IOException e) {
                    // the dump was stopped, or its pipe closed: the store reports it (never a part of the output as all of it)
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
        early.put(stream, st);
        Started watched = st;
        ToolRunner.daemon(tool + "-watch " + stream, () -> watch(watched, stream, run));
    }

    /** Fails the backup as soon as a dump started early ends with an error, instead of when a worker gets to its output. */
    private void watch(Started st, String stream, WorkerPool<Task> run) {
        try {
            int exit = st.rc().waitFor();
            // a dump stored already reported its own failure, which also set failed
            if (exit != 0 && !run.stopped()) {
                run.fail(dumpFailure(st.tool(), stream, exit, st.err().await()));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // destroyed or closed by the backup's own ending: nothing to report
        }
    }

    /**
     * psql reading its commands from stdin, where the tools run elsewhere than this JVM (a pod): no
     * argument-length limit, no dependence on how this JVM encodes arguments.
     */
    private CommandSpec psql(ToolRunner tools, String applicationName) {
        // the commands are written in UTF-8; the data itself is COPYed in the database's encoding
        return tools.command("psql").arg("--no-psqlrc").arg("--quiet").arg("--no-password").arg("--set=ON_ERROR_STOP=1")
                .arg("--dbname=" + cfg.libpqConnectionString(applicationName, Map.of("client_encoding", "UTF8")))
                .build();
    }

    private String sessionPrologue(String snapshotId) {
        return sessionPrologue(snapshotId, lockTimeoutMs());
    }

    /** What every data session runs first: psql's, and this JVM's in one statement batch. */
    static String sessionPrologue(String snapshotId, long lockTimeoutMs) {
        return Catalog.DATA_SESSION_SETTINGS + ";\n"
                // a queued ACCESS EXCLUSIVE request between the leader's lock and ours would wait forever: fail instead
                + "SET lock_timeout = " + lockTimeoutMs + ";\n"
                + "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;\n"
                + "SET TRANSACTION SNAPSHOT " + Catalog.quoteLiteral(snapshotId) + ";\n";
    }

    /**
     * COPYs the tables of one shard, one after another, each followed by a {@code \.} line, into one
     * stream; counts every table's rows as the data passes. Returns rows by table.
     */
    private Map<String, Long> copyTables(BackupContext context, ToolRunner tools, String snapshotId, Task task,
                                         Map<Long, List<String>> columnsOf, String encoding, WorkerPool<?> running) {
        if (tools.local()) {
            return copyTablesInProcess(context, snapshotId, task, columnsOf, encoding, running);
        }
        StringBuilder script = new StringBuilder(sessionPrologue(snapshotId));
        for (Catalog.TableInfo t : task.tables()) {
            script.append(copyTableSql(t, columnsOf.getOrDefault(t.oid(), List.of()), encoding)).append(";\n")
                    .append(CopyStreams.PSQL_MARKER_COMMAND).append('\n');
        }
        script.append("COMMIT;\n");
        CopyStreams.Counter counter = new CopyStreams.Counter();
        String what = "COPY of " + task.tables().size() + " tables into " + task.stream() + " from " + cfg.describe();
        runPsql(context, tools, task.stream(), script.toString(), counter, running, what, lockedTable -> {
            int at = counter.segments().size();
            return at < task.tables().size() ? task.tables().get(at).qualifiedName() : null;
        });
        List<Long> counts = counter.segments();
        if (counts.size() != task.tables().size()) {
            throw new EngineException(what + ": expected " + task.tables().size() + " tables in the output, saw " + counts.size());
        }
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < counts.size(); i++) {
            out.put(task.tables().get(i).qualifiedName(), counts.get(i));
        }
        return out;
    }

    /**
     * Dumps one page range: through a session of this JVM read in bulk where the tools run on this machine
     * ({@link #copyInProcess}), else through psql where they run (a pod). psql's rows are counted as the data
     * passes: COPY text escapes newlines inside values, so every newline byte ends one row. Returns the rows
     * copied.
     */
    private long copyPart(BackupContext context, ToolRunner tools, String snapshotId, TablePart part,
                          WorkerPool<?> running) {
        String what = "COPY of " + part.table().qualifiedName() + " pages " + part.fromPage() + ".."
                + (part.toPage() < 0 ? "end" : part.toPage()) + " from " + cfg.describe();
        if (tools.local()) {
            return copyInProcess(context, snapshotId, part.stream(), what, running,
                    (session, sink) -> sink.copy(session, part.copySql(), part.table().qualifiedName()));
        }
        String script = sessionPrologue(snapshotId) + part.copySql() + ";\nCOMMIT;\n";
        CopyStreams.Counter counter = new CopyStreams.Counter();
        runPsql(context, tools, part.stream(), script, counter, running, what, x -> part.table().qualifiedName());
        return counter.openRows();
    }

    /** The marker line that ends each table of a multi-table COPY stream ({@link CopyStreams}). */
    private static final byte[] SEGMENT_END = {'\\', '.', '\n'};

    /**
     * COPYs the tables of one shard through one session of this JVM, one after another, each followed by
     * a {@code \.} line, into one stream; returns rows by table. The same stream as psql's ({@link #copyTables}).
     */
    private Map<String, Long> copyTablesInProcess(BackupContext context, String snapshotId, Task task, Map<Long, List<String>> columnsOf,
                                                  String encoding, WorkerPool<?> running) {
        String what = "COPY of " + task.tables().size() + " tables into " + task.stream() + " from " + cfg.describe();
        return copyInProcess(context, snapshotId, task.stream(), what, running, (session, sink) -> {
            Map<String, Long> rows = new LinkedHashMap<>();
            for (Catalog.TableInfo t : task.tables()) {
                rows.put(t.qualifiedName(), sink.copy(session, copyTableSql(t, columnsOf.getOrDefault(t.oid(), List.of()), encoding),
                        t.qualifiedName()));
                sink.out.write(SEGMENT_END);
            }
            return rows;
        });
    }

    /** The COPY statements of one session, and what they return (rows). */
    private interface CopyScript<T> {
        T run(JdbcCopy session, CopySink sink) throws SQLException, IOException;
    }

    /** The stream of one COPY session, with the table being read, for the messages. */
    private static final class CopySink {
        final OutputStream out;
        volatile String table;

        CopySink(OutputStream out) {
            this.out = out;
        }

        long copy(JdbcCopy session, String sql, String tableName) throws SQLException, IOException {
            table = tableName;
            return session.copyOut(sql, out);
        }
    }

    /**
     * One data session in this JVM, where the tools run on this machine: a JDBC session with psql's
     * prologue (settings, lock timeout, REPEATABLE READ READ ONLY in the exported snapshot), the script's
     * COPYs read in bulk ({@link JdbcCopy}: no psql child, no pipe, less CPU on both sides), then COMMIT.
     * A stop of the backup cancels the COPY and aborts the session.
     */
    private <T> T copyInProcess(BackupContext context, String snapshotId, String stream, String what, WorkerPool<?> running,
                                CopyScript<T> script) {
        long start = System.nanoTime();
        CopySink sink = null;
        JdbcCopy session;
        try {
            session = JdbcCopy.open(cfg, "backupkit-copy " + stream);
        } catch (SQLException e) {
            throw Catalog.connectionError(cfg, e);
        }
        try (Connection c = session.connection();
             WorkerPool.Registration stop = running.onStopSession(c, s -> s.unwrap(org.postgresql.PGConnection.class).cancelQuery())) {
            try (Statement st = c.createStatement()) {
                st.execute(sessionPrologue(snapshotId));
            }
            T result;
            try (OutputStream out = context.newStream(stream)) {
                sink = new CopySink(out);
                result = script.run(session, sink);
            }
            try (Statement st = c.createStatement()) {
                st.execute("COMMIT");
            }
            LOG.debug("{}: {} in {} ms ({})", stream, what, (System.nanoTime() - start) / 1_000_000, session.bulk() ? "bulk" : "row by row");
            return result;
        } catch (SQLException e) {
            String table = sink == null ? null : sink.table;
            if ("55P03".equals(e.getSQLState())) {
                throw lockTimeout(table == null ? "(unknown)" : table, "a COPY session reading " + stream, Catalog.sqlError(what, e));
            }
            if (running.stopped()) {
                throw new EngineException(what + ": stopped because the backup stopped", e);
            }
            EngineException failure = Catalog.sqlError(what + (table == null ? "" : " (reading " + table + ")"), e);
            if (e.getSQLState() != null && (e.getSQLState().startsWith("08") || e.getSQLState().startsWith("57P"))) {
                throw new EngineException(failure.getMessage() + ". The server ended the session in the middle of the COPY (it "
                        + "stopped, restarted, or the session was terminated); nothing was stored. Retry when the server is up.", e);
            }
            throw failure;
        } catch (IOException e) {
            if (running.stopped()) {
                throw new EngineException(what + ": stopped because the backup stopped", e);
            }
            String table = sink == null ? null : sink.table;
            throw new EngineException("copying " + stream + (table == null ? "" : " (reading " + table + ")")
                    + " into the repository failed: " + e.getMessage(), e);
        }
    }

    private void runPsql(BackupContext context, ToolRunner tools, String stream, String script, CopyStreams.Counter counter,
                         WorkerPool<?> running, String what,
                         java.util.function.Function<String, String> tableAtFailure) {
        long start = System.nanoTime();
        RunningCommand rc = tools.start("psql", psql(tools, "backupkit-copy " + stream));
        running.track(rc);
        try {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "psql");
            AtomicReference<IOException> writeFailure = new AtomicReference<>();
            Thread writer = ToolRunner.daemon("psql-stdin", () -> {
                try (Writer w = new java.io.OutputStreamWriter(rc.stdin(), StandardCharsets.UTF_8)) {
                    w.write(script);
                } catch (IOException e) {
                    // psql stopped reading (it failed, or was stopped): its exit status says why
                    writeFailure.set(e);
                }
            });
            long received = 0;
            try (InputStream in = rc.stdout(); OutputStream out = context.newStream(stream)) {
                byte[] buf = new byte[256 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    counter.update(buf, 0, n);
                    out.write(buf, 0, n);
                    received += n;
                }
            }
            int exit = rc.waitFor();
            writer.join();
            String tail = err.await();
            if (exit != 0) {
                // a table is named only when one was being read: not when psql could not even connect
                String table = received > 0 || tail.contains("COPY") || tail.contains("lock timeout") ? tableAtFailure.apply(tail) : null;
                if (tail.contains("lock timeout")) {
                    throw lockTimeout(table == null ? "(unknown)" : table, "a COPY session reading " + stream,
                            new EngineException(what + " failed with exit code " + exit, exit, tail, null));
                }
                // the table whose COPY was under way: the one to look at when the server ended the session or a row failed
                throw new EngineException(what + (table == null ? "" : " (reading " + table + ")") + " failed with exit code " + exit,
                        exit, tail, null);
            }
            if (writeFailure.get() != null) {
                throw new EngineException(what + ": psql stopped reading its commands: " + writeFailure.get().getMessage(), writeFailure.get());
            }
            LOG.debug("{}: {} in {} ms", stream, what, (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            throw new EngineException("copying " + stream + " into the repository failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("backup interrupted", e);
        } finally {
            running.untrack(rc);
            rc.close();
        }
    }

    /**
     * A dump started (ahead of its turn, {@link #startEarly}, or by its task): the process, the tail of its
     * standard error and, for pg_dumpall, the part of its output read ahead (else null).
     */
    private record Started(String tool, RunningCommand rc, ToolRunner.StderrTail err, CompletableFuture<byte[]> head) {
        /** The output: what was read ahead of the store (if anything), then the rest of the pipe. */
        InputStream output() throws IOException {
            if (head == null) {
                return rc.stdout();
            }
            try {
                return new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(Futures.join(head)), rc.stdout());
            } catch (java.io.UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    /** At most this much of pg_dumpall's output is read ahead into memory (a few KiB unless there are thousands of roles). */
    public static final int GLOBALS_READ_AHEAD = 4 << 20;

    /**
     * Whether the globals are stored after the data: when pg_dumpall, started early, has written all of its
     * output into the read-ahead (it has ended or is about to). Otherwise they are stored first, as the data
     * starts: pg_dumpall runs outside a transaction, so a session of it left waiting on a full pipe until a
     * worker is free would meet idle_session_timeout (or a pooler's idle timeout), and would hold a connection.
     */
    private static boolean globalsLast(Started dumpall) {
        byte[] head = dumpall == null || dumpall.head() == null || dumpall.head().isCompletedExceptionally() ? null
                : dumpall.head().getNow(null);
        return head != null && head.length < GLOBALS_READ_AHEAD;
    }

    private CommandSpec dumpSpec(ToolRunner tools, String snapshotId, Task task, String encoding) {
        return tools.command("pg_dump")
                .arg("--format=custom")
                // the repository compresses (zstd) after deduplicating: compressing here would only cost CPU and dedup
                .arg("--compress=0")
                .arg("--no-password")
                .arg("--snapshot=" + snapshotId)
                // pinned, so an ambient PGCLIENTENCODING can never change the archive
                .arg("--encoding=" + encoding)
                // pg_dump locks every table it reads after the leader did: a queued ACCESS EXCLUSIVE in between would deadlock
                .arg("--lock-wait-timeout=" + lockTimeoutMs())
                .args(task.args())
                .arg("--dbname=" + cfg.libpqConnectionString("backupkit-pg_dump " + task.stream()))
                .build();
    }

    /** Roles, memberships, role settings and tablespaces: {@code pg_dumpall --globals-only}, without passwords unless asked. */
    private CommandSpec globalsSpec(ToolRunner tools) {
        CommandSpec.Builder b = tools.command("pg_dumpall").arg("--globals-only").arg("--no-password").arg("--encoding=UTF8");
        if (!options.rolePasswords()) {
            b.arg("--no-role-passwords");
        }
        b.arg("--dbname=" + cfg.libpqConnectionString("backupkit-pg_dumpall"));
        return b.build();
    }

    private static Started start(ToolRunner tools, String tool, CommandSpec spec, WorkerPool<?> running) {
        RunningCommand rc = tools.start(tool, spec);
        running.track(rc);
        ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), tool);
        try {
            rc.stdin().close();
        } catch (IOException e) {
            // it exited already: its exit status and standard error say why when its output is stored
        }
        return new Started(tool, rc, err, null);
    }

    private EngineException dumpFailure(String tool, String stream, int exit, String tail) {
        EngineException failure = new EngineException(tool + " of " + stream + " from " + cfg.describe() + " failed with exit code "
                + exit, exit, tail, null);
        Matcher m = PG_DUMP_LOCK.matcher(tail);
        if ((tail.contains("timeout") || tail.contains("lock")) && m.find()) {
            return lockTimeout(m.group(1), tool + " writing " + stream, failure);
        }
        return failure;
    }

    /** Stores the output of a started dump as {@code stream}; fails with the tool's exit status and error tail. */
    private void store(BackupContext context, Started started, String stream, WorkerPool<?> running) {
        long begin = System.nanoTime();
        String tool = started.tool();
        RunningCommand rc = started.rc();
        try {
            long bytes;
            try (InputStream in = started.output(); OutputStream out = context.newStream(stream)) {
                bytes = copy(in, out);
            }
            int exit = rc.waitFor();
            String tail = started.err().await();
            if (exit != 0) {
                throw dumpFailure(tool, stream, exit, tail);
            }
            LOG.debug("{} {}: {} bytes, stored in {} ms", tool, stream, bytes, (System.nanoTime() - begin) / 1_000_000);
        } catch (IOException e) {
            throw new EngineException("copying " + tool + " output of " + stream + " into the repository failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("backup interrupted", e);
        } finally {
            running.untrack(rc);
            rc.close();
        }
    }

    /** Like transferTo, with a buffer big enough that per-write costs downstream do not matter. */
    static long copy(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[256 * 1024];
        long total = 0;
        int n;
        while ((n = in.readNBytes(buf, 0, buf.length)) > 0) {
            out.write(buf, 0, n);
            total += n;
            if (n < buf.length) {
                break; // readNBytes stops short only at the end of the stream
            }
        }
        return total;
    }
}
