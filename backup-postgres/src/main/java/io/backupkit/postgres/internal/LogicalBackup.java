package io.backupkit.postgres.internal;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One logical backup: a REPEATABLE READ transaction exports its snapshot; pg_dump processes
 * import it and write pre-data, N disjoint data shards, the remaining data (sequence values,
 * large objects, extension configuration tables) and post-data, each straight into its own
 * stream. The exporting transaction stays open until every pg_dump is done, and meanwhile counts
 * rows in the same snapshot.
 */
public final class LogicalBackup {
    public static final String FORMAT = "backupkit-postgres-logical/1";
    public static final String PRE_DATA = "pre-data";
    public static final String POST_DATA = "post-data";
    public static final String OTHER_DATA = "data-other";
    private static final Logger LOG = LoggerFactory.getLogger(LogicalBackup.class);

    private final PgConnectionConfig cfg;
    private final Path toolDirectory;
    /** Tables smaller than this are never split: a pg_dump of them is quick anyway. */
    static final long MIN_SPLIT_BYTES = 32L << 20;

    private final int jobs;
    private final boolean splitLargeTables;

    public LogicalBackup(PgConnectionConfig cfg, Path toolDirectory, int jobs, boolean splitLargeTables) {
        this.cfg = cfg;
        this.toolDirectory = toolDirectory;
        this.jobs = jobs;
        this.splitLargeTables = splitLargeTables;
    }

    /**
     * One page range of a large table, dumped by COPY in the exported snapshot into its own stream.
     * pg_dump's parallelism is by table, so one table bigger than a fair share would bound the
     * whole backup; since PostgreSQL 14 a ctid range is a TID range scan that reads only its pages.
     */
    record TablePart(String stream, Catalog.TableInfo table, List<String> columns, long fromPage, long toPage) {
        long weight() {
            return table.pages() == 0 ? table.bytes() : table.bytes() * Math.max(1, (toPage < 0 ? table.pages() : toPage) - fromPage)
                    / table.pages();
        }

        String copySql() {
            String cols = columns.stream().map(Catalog::quoteIdent).collect(java.util.stream.Collectors.joining(", "));
            return "COPY (SELECT " + cols + " FROM ONLY " + table.sql() + " WHERE ctid >= '(" + fromPage + ",0)'::tid"
                    + (toPage < 0 ? "" : " AND ctid < '(" + toPage + ",0)'::tid") + ") TO STDOUT";
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
            return m;
        }
    }

    public static String shardStreamName(int index) {
        return String.format("data-%04d", index + 1);
    }

    public void run(BackupContext context) {
        ToolRunner tools = new ToolRunner(context.commandExecutor(), toolDirectory, cfg);
        long started = System.nanoTime();
        try (Connection c = Catalog.connect(cfg, "backupkit-backup")) {
            String serverVersion = Catalog.serverVersion(c);
            int serverMajor = Catalog.serverVersionNum(c) / 10000;
            ToolRunner.Version dumpVersion = tools.version("pg_dump");
            if (dumpVersion.major() < serverMajor) {
                throw new EngineException("pg_dump " + dumpVersion + " at " + tools.program("pg_dump") + " is older than the server "
                        + cfg.host() + ":" + cfg.port() + " (PostgreSQL " + serverVersion + "); pg_dump must be at least major version "
                        + serverMajor + ": install postgresql-client-" + serverMajor + " or newer and set toolDirectory to its bin directory");
            }
            ToolRunner.Version restoreVersion = tools.version("pg_restore");

            Catalog.prepareDataSession(c);
            c.setAutoCommit(false);
            String snapshotId;
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                    rs.next();
                    snapshotId = rs.getString(1);
                }
            }
            Map<String, Object> db = Catalog.databaseInfo(c);
            List<Catalog.TableInfo> tables = Catalog.tables(c);
            lockTables(c, tables);
            Map<Long, List<String>> owned = Catalog.ownedSequences(c);
            Map<Long, List<String>> indexes = Catalog.indexes(c);
            Map<Long, List<String>> refs = Catalog.references(c);
            String fingerprint = Catalog.schemaFingerprint(c);
            List<Map<String, Object>> extensions = Catalog.extensions(c);
            long largeObjects = Catalog.largeObjectCount(c);

            List<Catalog.TableInfo> dataTables = tables.stream().filter(t -> !t.partitioned()).toList();
            int shardCount = Math.max(1, Math.min(jobs > 0 ? jobs : context.parallelism(), context.parallelism()));
            long totalBytes = dataTables.stream().mapToLong(Catalog.TableInfo::bytes).sum();
            long fairShare = totalBytes / shardCount;
            List<Catalog.TableInfo> wholeTables = new ArrayList<>();
            List<Catalog.TableInfo> splitTables = new ArrayList<>();
            for (Catalog.TableInfo t : dataTables) {
                boolean split = splitLargeTables && shardCount > 1 && serverMajor >= 14 && t.bytes() >= MIN_SPLIT_BYTES
                        && t.bytes() > fairShare && t.pages() >= shardCount;
                (split ? splitTables : wholeTables).add(t);
            }
            List<ShardPlanner.Shard> shards = ShardPlanner.plan(wholeTables, shardCount);
            List<TablePart> parts = new ArrayList<>();
            Map<Long, List<String>> partsOf = new LinkedHashMap<>();
            int streamNo = shards.size();
            for (Catalog.TableInfo t : splitTables) {
                int k = (int) Math.min(shardCount, Math.max(2, (t.bytes() + fairShare - 1) / Math.max(1, fairShare)));
                List<String> columns = Catalog.copyColumns(c, t.oid());
                for (int i = 0; i < k; i++) {
                    long from = t.pages() * i / k;
                    // the last range is open-ended, so rows on pages past the size estimate are never lost
                    long to = i == k - 1 ? -1 : t.pages() * (i + 1) / k;
                    TablePart part = new TablePart(shardStreamName(streamNo++), t, columns, from, to);
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
            context.putMetadata("pgDumpVersion", dumpVersion.toString());
            context.putMetadata("pgRestoreVersion", restoreVersion.toString());
            context.putMetadata("tableBytes", totalBytes);
            context.putMetadata("extensions", extensions);
            context.putMetadata("schemaFingerprint", fingerprint);
            context.putMetadata("largeObjects", largeObjects);
            context.putMetadata("shards", shardTables);
            Map<String, Object> partMeta = new LinkedHashMap<>();
            parts.forEach(p -> partMeta.put(p.stream(), p.metadata()));
            context.putMetadata("parts", partMeta);

            // dump tasks largest first; the small schema and leftover dumps fill in as shards finish
            List<DumpTask> tasks = new ArrayList<>();
            for (ShardPlanner.Shard s : shards) {
                List<String> args = new ArrayList<>(List.of("--section=data"));
                for (Catalog.TableInfo t : s.tables()) {
                    args.add("--table=" + pattern(t));
                }
                tasks.add(new DumpTask(shardStreamName(s.index()), s.bytes() + 1, args, null));
            }
            for (TablePart p : parts) {
                tasks.add(new DumpTask(p.stream(), p.weight() + 1, List.of(), p));
            }
            tasks.add(new DumpTask(PRE_DATA, 0, List.of("--section=pre-data"), null));
            List<String> otherArgs = new ArrayList<>(List.of("--section=data"));
            for (Catalog.TableInfo t : dataTables) {
                otherArgs.add("--exclude-table=" + pattern(t));
            }
            tasks.add(new DumpTask(OTHER_DATA, 0, otherArgs, null));
            tasks.add(new DumpTask(POST_DATA, 0, List.of("--section=post-data"), null));
            // split tables are counted by their COPY parts (COPY reports its rows), the rest with count(*) here
            long prepared = System.nanoTime();
            Map<String, Long> rows = runDumps(context, tools, snapshotId, tasks, shardCount, c, wholeTables);
            LOG.info("backup of {}: {} tables ({} split into {} page ranges) in {} data streams; catalog {} ms, dumps {} ms", cfg.describe(),
                    dataTables.size(), splitTables.size(), parts.size(), shards.size() + parts.size(),
                    (prepared - started) / 1_000_000, (System.nanoTime() - prepared) / 1_000_000);

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
                m.put("rows", t.partitioned() ? 0L : rows.get(t.qualifiedName()));
                m.put("bytes", t.bytes());
                m.put("stream", streamOf.get(t.oid()));
                m.put("parts", partsOf.getOrDefault(t.oid(), List.of()));
                m.put("sequences", owned.getOrDefault(t.oid(), List.of()));
                m.put("indexes", indexes.getOrDefault(t.oid(), List.of()));
                m.put("references", refs.getOrDefault(t.oid(), List.of()));
                tableMeta.add(m);
            }
            context.putMetadata("tables", tableMeta);
            c.commit();
        } catch (SQLException e) {
            throw Catalog.sqlError("backup of " + cfg.describe(), e);
        }
    }

    private static void lockTables(Connection c, List<Catalog.TableInfo> tables) throws SQLException {
        if (tables.isEmpty()) {
            return;
        }
        // like pg_dump's leader: hold ACCESS SHARE so no table is dropped or rewritten while the workers dump it
        StringBuilder sb = new StringBuilder("LOCK TABLE ");
        for (int i = 0; i < tables.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append("ONLY ").append(tables.get(i).sql());
        }
        sb.append(" IN ACCESS SHARE MODE");
        try (Statement st = c.createStatement()) {
            st.execute(sb.toString());
        }
    }

    /** A pg_dump table pattern that matches exactly this table: both parts double-quoted, so no wildcard applies. */
    static String pattern(Catalog.TableInfo t) {
        return "\"" + t.schema().replace("\"", "\"\"") + "\".\"" + t.name().replace("\"", "\"\"") + "\"";
    }

    private record DumpTask(String stream, long weight, List<String> args, TablePart part) {
    }

    private Map<String, Long> runDumps(BackupContext context, ToolRunner tools, String snapshotId, List<DumpTask> tasks,
                                       int workers, Connection holder, List<Catalog.TableInfo> dataTables) throws SQLException {
        PriorityBlockingQueue<DumpTask> queue = new PriorityBlockingQueue<>(tasks.size(),
                Comparator.comparingLong(DumpTask::weight).reversed());
        queue.addAll(tasks);
        AtomicBoolean failed = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<RuntimeException> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        ConcurrentLinkedQueue<RunningCommand> running = new ConcurrentLinkedQueue<>();
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "backupkit-pg_dump-" + seq.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Map<String, Long> rows = new java.util.concurrent.ConcurrentHashMap<>();
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            futures.add(pool.submit(() -> {
                DumpTask task;
                while (!failed.get() && (task = queue.poll()) != null) {
                    try {
                        if (task.part() != null) {
                            long copied = copyPart(context, tools, snapshotId, task.part(), running);
                            rows.merge(task.part().table().qualifiedName(), copied, Long::sum);
                        } else {
                            dump(context, tools, snapshotId, task, running);
                        }
                    } catch (RuntimeException e) {
                        // remember the root failure before stopping the others, whose errors are only consequences
                        firstFailure.compareAndSet(null, e);
                        failed.set(true);
                        running.forEach(RunningCommand::destroy);
                                    throw e;
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        RuntimeException countFailure = null;
        try {
            // exact counts in the exported snapshot, while the dumps run
            for (Catalog.TableInfo t : dataTables) {
                if (failed.get()) {
                    break;
                }
                rows.put(t.qualifiedName(), Catalog.countRows(holder, t.schema(), t.name()));
            }
        } catch (SQLException e) {
            countFailure = Catalog.sqlError("counting rows in the backup snapshot of " + cfg.describe(), e);
            firstFailure.compareAndSet(null, countFailure);
            failed.set(true);
            running.forEach(RunningCommand::destroy);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                firstFailure.compareAndSet(null, cause instanceof RuntimeException r ? r : new EngineException("pg_dump worker failed: " + cause, cause));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running.forEach(RunningCommand::destroy);
                throw new EngineException("backup interrupted", e);
            }
        }
        RuntimeException first = firstFailure.get();
        if (first != null) {
            throw first instanceof BackupException ? first : new EngineException("backup of " + cfg.describe() + " failed: " + first, first);
        }
        return rows;
    }


    /** Returns the rows copied. */
    /**
     * Dumps one page range with psql, not JDBC: libpq streams COPY text at about twice the rate of
     * the JDBC driver, and psql runs wherever the tools run (a pod, too). Rows are counted as the
     * data passes: COPY text escapes newlines inside values, so every newline byte ends one row.
     */
    private long copyPart(BackupContext context, ToolRunner tools, String snapshotId, TablePart part,
                          ConcurrentLinkedQueue<RunningCommand> running) {
        long start = System.nanoTime();
        CommandSpec spec = tools.command("psql")
                .arg("--no-psqlrc").arg("--quiet").arg("--no-password").arg("--set=ON_ERROR_STOP=1")
                .arg("--dbname=" + cfg.libpqConnectionString("backupkit-copy " + part.stream()))
                .arg("--command=" + Catalog.DATA_SESSION_SETTINGS)
                .arg("--command=BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .arg("--command=SET TRANSACTION SNAPSHOT " + Catalog.quoteLiteral(snapshotId))
                .arg("--command=" + part.copySql())
                .arg("--command=COMMIT")
                .build();
        RunningCommand rc = tools.start("psql", spec);
        running.add(rc);
        String what = "COPY of " + part.table().qualifiedName() + " pages " + part.fromPage() + ".."
                + (part.toPage() < 0 ? "end" : part.toPage()) + " from " + cfg.describe();
        try {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "psql");
            rc.stdin().close();
            long copied = 0;
            try (InputStream in = rc.stdout(); OutputStream out = context.newStream(part.stream())) {
                byte[] buf = new byte[256 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            copied++;
                        }
                    }
                    out.write(buf, 0, n);
                }
            }
            int exit = rc.waitFor();
            String tail = err.await();
            if (exit != 0) {
                throw new EngineException(what + " failed with exit code " + exit, exit, tail, null);
            }
            LOG.debug("COPY {} pages {}..{} of {}: {} rows in {} ms", part.stream(), part.fromPage(), part.toPage(),
                    part.table().qualifiedName(), copied, (System.nanoTime() - start) / 1_000_000);
            return copied;
        } catch (IOException e) {
            throw new EngineException("copying " + part.stream() + " into the repository failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("backup interrupted", e);
        } finally {
            running.remove(rc);
            rc.close();
        }
    }

    private void dump(BackupContext context, ToolRunner tools, String snapshotId, DumpTask task,
                      ConcurrentLinkedQueue<RunningCommand> running) {
        CommandSpec spec = tools.command("pg_dump")
                .arg("--format=custom")
                // the repository compresses (zstd) after deduplicating: compressing here would only cost CPU and dedup
                .arg("--compress=0")
                .arg("--no-password")
                .arg("--snapshot=" + snapshotId)
                .args(task.args())
                .arg("--dbname=" + cfg.libpqConnectionString("backupkit-pg_dump " + task.stream()))
                .build();
        long start = System.nanoTime();
        RunningCommand rc = tools.start("pg_dump", spec);
        running.add(rc);
        try {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "pg_dump");
            rc.stdin().close();
            long bytes;
            try (InputStream in = rc.stdout(); OutputStream out = context.newStream(task.stream())) {
                bytes = copy(in, out);
            }
            int exit = rc.waitFor();
            String tail = err.await();
            if (exit != 0) {
                throw new EngineException("pg_dump of " + task.stream() + " from " + cfg.describe() + " failed with exit code " + exit,
                        exit, tail, null);
            }
            LOG.debug("pg_dump {}: {} bytes in {} ms", task.stream(), bytes, (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            throw new EngineException("copying pg_dump output of " + task.stream() + " into the repository failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("backup interrupted", e);
        } finally {
            running.remove(rc);
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
