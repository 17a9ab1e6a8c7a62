package io.backupkit.mysql;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.LogPutResult;
import io.backupkit.Repository;
import io.backupkit.mysql.internal.BinlogEvents;
import io.backupkit.mysql.internal.LogicalDump;
import io.backupkit.mysql.internal.MySqlConnectionConfig;
import io.backupkit.mysql.internal.ServerVersion;
import io.backupkit.mysql.internal.Sessions;
import io.backupkit.mysql.internal.Tools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Streams a MySQL/MariaDB server's binary logs into a repository as the server writes them
 * ({@code mariadb-binlog}/{@code mysqlbinlog --read-from-remote-server --raw --stop-never}, the
 * replication protocol), for point-in-time recovery. Each finished file is stored whole; the file
 * the server is writing is stored piece by piece (the complete events written since the last piece)
 * every {@link Builder#partialInterval(Duration) partialInterval}, so the recovery point lags by at
 * most that. A restart resumes after the last archived file; a file the server purged before it was
 * archived is a gap, reported by name.
 *
 * <pre>{@code
 * try (BinlogReceiver receiver = BinlogReceiver.builder()
 *         .url("mariadb://repl@db1:3306").password(pw)
 *         .repository(repo)
 *         .build()
 *         .start()) {
 *     ...                         // runs in the background until closed
 * }
 * }</pre>
 *
 * <p>The user needs REPLICATION SLAVE (to stream) and REPLICATION CLIENT or, on MariaDB 10.5+,
 * BINLOG MONITOR (to list the binary logs). The server needs {@code log_bin} on; ROW format is
 * recommended.
 */
public final class BinlogReceiver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BinlogReceiver.class);

    private final MySqlConnectionConfig cfg;
    private final BinlogArchive archive;
    private final String sourceOverride;
    private final Path spoolOverride;
    private final String startFile;
    private final Duration partialInterval;
    private final Duration pollInterval;
    private final Path toolDirectory;
    private final long replicaServerId;
    private final boolean allowGap;
    private final Object lock = new Object();

    private volatile String source;
    private volatile Path spool;
    private volatile boolean deleteSpool;
    private volatile Thread thread;
    private volatile Process process;
    private volatile boolean closing;
    private volatile Throwable lastError;
    private volatile String lastArchived;
    private volatile Instant lastEventTime;
    private volatile long filesStored;
    private volatile long partialsStored;
    private final ByteArrayOutputStream toolErrors = new ByteArrayOutputStream();
    private Instant lastPartialAt = Instant.EPOCH;
    private long lastPartialLength = -1;
    private String lastPartialFile;

    private BinlogReceiver(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("BinlogReceiver needs a url (mysql://user@host:port or mariadb://…)");
        }
        MySqlConnectionConfig c = MySqlConnectionConfig.parse(b.url).withDatabase(null);
        if (b.user != null) {
            c = c.withUser(b.user);
        }
        if (b.password != null) {
            c = c.withPassword(b.password);
        }
        if (c.user() == null) {
            c = c.withUser("root");
        }
        this.cfg = c;
        this.archive = BinlogArchive.of(Objects.requireNonNull(b.repository, "repository is required"));
        this.sourceOverride = b.source == null ? null : BinlogArchive.checkSource(b.source);
        this.spoolOverride = b.spoolDirectory;
        this.startFile = b.startFile;
        this.partialInterval = b.partialInterval;
        this.pollInterval = b.pollInterval;
        this.toolDirectory = b.toolDirectory;
        this.replicaServerId = b.replicaServerId;
        this.allowGap = b.allowGap;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks the server (version, binary log on, privileges), finds where to resume, starts the tool
     * and returns; archiving goes on in a background thread until {@link #close()}.
     *
     * @throws ConfigurationException when the server cannot be archived (binary log off, missing privilege, a gap)
     * @throws EngineException        when the tool is missing or the server unreachable
     */
    public BinlogReceiver start() {
        Plan plan = plan();
        this.source = plan.source;
        try {
            if (spoolOverride != null) {
                Files.createDirectories(spoolOverride);
                spool = spoolOverride;
            } else {
                spool = Files.createTempDirectory("backupkit-binlog-");
                deleteSpool = true;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the binlog spool directory", e);
        }
        launch(plan);
        Thread t = new Thread(() -> loop(plan), "backupkit-binlog-receiver");
        t.setDaemon(true);
        thread = t;
        t.start();
        LOG.info("archiving binary logs of {} from {} into {} as source {}", cfg.server(), plan.next, archive.location(), plan.source);
        return this;
    }

    /** The source name the files are archived under (known after {@link #start()}). */
    public String source() {
        return source;
    }

    /** What the receiver has done so far. */
    public Status status() {
        Process p = process;
        return new Status(source, lastArchived, lastEventTime, filesStored, partialsStored, p != null && p.isAlive(),
                lastError == null ? null : lastError.getMessage());
    }

    /**
     * What a receiver has done.
     *
     * @param source         the archive source name
     * @param lastArchived   the newest file stored (complete, or a piece of it), or null
     * @param lastEventTime  time of the newest archived event, or null
     * @param filesStored    complete files stored since start
     * @param partialsStored pieces of files being written stored since start
     * @param streaming      whether the tool is connected now
     * @param lastError      the last error (the receiver retries), or null
     */
    public record Status(String source, String lastArchived, Instant lastEventTime, long filesStored, long partialsStored,
                         boolean streaming, String lastError) {
    }

    /** Stores what the tool has received so far now (finished files, and a piece of the current one). */
    public void flush() {
        scan(true);
    }

    /**
     * Waits until the archive holds every event the server had written when this method was called
     * (the server's current binary log position), flushing partial copies meanwhile.
     *
     * @throws BackupException when that takes longer than {@code timeout}
     */
    public BinlogPosition awaitCurrentPosition(Duration timeout) {
        BinlogPosition target;
        Connection c = Sessions.open(cfg, "binlog receiver", 60);
        try {
            ServerVersion v = LogicalDump.version(c);
            List<List<String>> r = Sessions.query(c, v.binlogStatusStatement());
            target = new BinlogPosition(r.get(0).get(0), Long.parseLong(r.get(0).get(1)));
        } catch (SQLException e) {
            throw new EngineException("cannot read the binary log position of " + cfg.server() + ": " + e.getMessage(), e);
        } finally {
            Sessions.closeQuietly(c);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            flush();
            Optional<BinlogFile> f = archive.files(source).stream().filter(x -> x.name().equals(target.file())).findFirst();
            if (f.isPresent() && (f.get().complete() || f.get().length() >= target.position())) {
                return target;
            }
            if (archive.files(source).stream().anyMatch(x -> x.sequence() > target.sequence())) {
                return target;
            }
            if (System.nanoTime() > deadline) {
                throw new BackupException("the binary log receiver did not archive up to " + target + " within " + timeout.toSeconds()
                        + " s" + (lastError == null ? "" : "; last error: " + lastError.getMessage()));
            }
            sleep(100);
        }
    }

    /** Stops the tool, stores what it received (a piece of the current file) and stops. */
    @Override
    public void close() {
        closing = true;
        Process p = process;
        if (p != null) {
            p.destroy();
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            p.destroyForcibly();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (spool != null) {
            try {
                scan(true);
            } catch (RuntimeException e) {
                LOG.warn("could not store the last partial binary log on close: {}", e.getMessage());
            }
            if (deleteSpool) {
                deleteRecursively(spool);
            }
        }
    }

    private record Plan(String source, String next, ServerVersion version, List<String> serverFiles) {
    }

    /** Checks the server and finds the file to stream from. */
    private Plan plan() {
        Connection c = Sessions.open(cfg, "binlog receiver", 60);
        try {
            ServerVersion v = LogicalDump.version(c);
            v.checkSupported(cfg.server());
            if (!"1".equals(Sessions.queryForString(c, "SELECT @@GLOBAL.log_bin"))) {
                throw new ConfigurationException("binary logging is off on " + cfg.server() + " (log_bin=OFF): start the server with "
                        + "log_bin (and binlog_format=ROW) to archive binary logs for point-in-time recovery");
            }
            String src = sourceOverride != null ? sourceOverride : BinlogArchive.defaultSourceName(
                    Sessions.queryForString(c, "SELECT @@GLOBAL.server_id"),
                    v.isMariaDb() ? null : Sessions.queryForString(c, "SELECT @@GLOBAL.server_uuid"));
            List<String> files = new ArrayList<>();
            try {
                for (List<String> r : Sessions.query(c, v.binaryLogsStatement())) {
                    files.add(r.get(0));
                }
            } catch (SQLException e) {
                if (Sessions.errorCode(e) == Sessions.SPECIFIC_ACCESS_DENIED || Sessions.errorCode(e) == 1045 || Sessions.errorCode(e) == 1142) {
                    throw new ConfigurationException("user " + cfg.user() + " may not list the binary logs of " + cfg.server()
                            + ": grant REPLICATION CLIENT (MySQL) or BINLOG MONITOR (MariaDB 10.5+), and REPLICATION SLAVE to stream them", e);
                }
                throw e;
            }
            if (files.isEmpty()) {
                throw new ConfigurationException("the server " + cfg.server() + " lists no binary logs");
            }
            List<BinlogFile> archived = archive.files(src);
            String next;
            if (!archived.isEmpty()) {
                BinlogFile last = archived.get(archived.size() - 1);
                next = last.complete() ? BinlogPosition.fileWithSequence(last.name(), last.sequence() + 1) : last.name();
            } else {
                next = startFile != null ? startFile : files.get(0);
            }
            if (!files.contains(next)) {
                long want = BinlogPosition.sequenceOf(next);
                long oldest = BinlogPosition.sequenceOf(files.get(0));
                long newest = BinlogPosition.sequenceOf(files.get(files.size() - 1));
                if (want < oldest) {
                    String missing = want == oldest - 1 ? next : next + " to " + BinlogPosition.fileWithSequence(next, oldest - 1);
                    if (!allowGap) {
                        throw new ConfigurationException("binlog gap: " + missing + " " + (want == oldest - 1 ? "was" : "were")
                                + " purged from " + cfg.server() + " before being archived (the server's oldest binary log is "
                                + files.get(0) + "); point-in-time recovery across the gap is impossible. Take a new backup, then "
                                + "restart the receiver with allowGap to continue from " + files.get(0));
                    }
                    LOG.warn("binlog gap: {} missing from the archive of {}; continuing from {}", missing, src, files.get(0));
                    next = files.get(0);
                } else if (want > newest + 1 || archived.isEmpty()) {
                    throw new ConfigurationException("binary log " + next + " is not on " + cfg.server() + " (it has " + files.get(0)
                            + " to " + files.get(files.size() - 1) + ")");
                } else {
                    // the archive holds every finished file; the server has not opened the next one yet
                    next = files.get(files.size() - 1);
                }
            }
            return new Plan(src, next, v, files);
        } catch (SQLException e) {
            throw new EngineException("cannot prepare binary log archiving on " + cfg.server() + ": " + e.getMessage(), e);
        } finally {
            Sessions.closeQuietly(c);
        }
    }

    private void launch(Plan plan) {
        Path tool = Tools.locate(plan.version.binlogToolNames(), toolDirectory);
        List<String> cmd = new ArrayList<>(List.of(tool.toString(), "--read-from-remote-server", "--raw", "--stop-never",
                "--protocol=TCP", "--host=" + cfg.host(), "--port=" + cfg.port(), "--user=" + cfg.user(),
                "--result-file=" + spool.toAbsolutePath() + "/"));
        // MySQL 8 renamed the option that sets the replica server id the tool announces
        cmd.add((plan.version.isMariaDb() ? "--stop-never-slave-server-id=" : "--connection-server-id=") + replicaServerId);
        cmd.add(plan.next);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        if (cfg.hasPassword()) {
            pb.environment().put("MYSQL_PWD", cfg.passwordForChildEnvironment());
        }
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            Thread pump = new Thread(() -> pumpErrors(p.getErrorStream()), "backupkit-binlog-stderr");
            pump.setDaemon(true);
            pump.start();
            process = p;
        } catch (IOException e) {
            throw new EngineException("cannot start " + tool + ": " + e.getMessage(), e);
        }
    }

    private void pumpErrors(InputStream err) {
        byte[] buf = new byte[4096];
        int n;
        try {
            while ((n = err.read(buf)) > 0) {
                synchronized (toolErrors) {
                    if (toolErrors.size() > 64 * 1024) {
                        toolErrors.reset();
                    }
                    toolErrors.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // the process ended
        }
    }

    private String toolErrorTail() {
        synchronized (toolErrors) {
            String s = toolErrors.toString(StandardCharsets.UTF_8).strip();
            return s.length() > 1000 ? s.substring(s.length() - 1000) : s;
        }
    }

    private void loop(Plan initial) {
        long backoff = 1000;
        while (!closing) {
            try {
                scan(false);
                Process p = process;
                if (p != null && !p.isAlive() && !closing) {
                    scan(true);
                    String err = toolErrorTail();
                    lastError = new EngineException("the binary log stream from " + cfg.server() + " ended (exit code " + p.exitValue() + ")"
                            + (err.isEmpty() ? "" : ": " + err));
                    LOG.warn("{}; reconnecting in {} ms", lastError.getMessage(), backoff);
                    sleep(backoff);
                    backoff = Math.min(backoff * 2, 30_000);
                    if (!closing) {
                        Plan plan = plan();
                        clearLocalBefore(plan.next);
                        launch(plan);
                    }
                } else {
                    if (p != null && p.isAlive()) {
                        backoff = 1000;
                    }
                    sleep(pollInterval.toMillis());
                }
            } catch (RuntimeException e) {
                if (closing) {
                    return;
                }
                lastError = e;
                LOG.warn("binary log archiving of {}: {}", cfg.server(), e.getMessage());
                sleep(backoff);
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
    }

    /** Removes local copies of files older than {@code next} (already archived). */
    private void clearLocalBefore(String next) {
        long want = BinlogPosition.sequenceOf(next);
        for (Path f : localFiles()) {
            if (BinlogPosition.sequenceOf(f.getFileName().toString()) < want) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // retried at the next scan
                }
            }
        }
    }

    private List<Path> localFiles() {
        if (spool == null || !Files.isDirectory(spool)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(spool)) {
            return s.filter(p -> BinlogPosition.sequenceOf(p.getFileName().toString()) >= 0)
                    .sorted(Comparator.comparingLong(p -> BinlogPosition.sequenceOf(p.getFileName().toString()))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + spool, e);
        }
    }

    /** Stores finished files, and a piece of the current file when {@code force} or the interval has passed. */
    private void scan(boolean force) {
        synchronized (lock) {
            List<Path> files = localFiles();
            for (int i = 0; i < files.size(); i++) {
                Path f = files.get(i);
                String name = f.getFileName().toString();
                boolean newest = i == files.size() - 1;
                BinlogEvents.Summary s;
                try {
                    s = BinlogEvents.read(f);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + f, e);
                }
                if (!newest || s.finished()) {
                    LogPutResult r = archive.putComplete(source, f);
                    archive.deletePieces(source, name);
                    filesStored += r.status() == LogPutResult.Status.STORED ? 1 : 0;
                    lastArchived = name;
                    if (s.lastTime() != null) {
                        lastEventTime = s.lastTime();
                    }
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot remove " + f, e);
                    }
                    continue;
                }
                if (!name.equals(lastPartialFile)) {
                    // a file met for the first time (also after a restart): continue after what the archive holds
                    lastPartialFile = name;
                    lastPartialLength = archive.archivedLength(source, name);
                }
                boolean due = force || Duration.between(lastPartialAt, Instant.now()).compareTo(partialInterval) >= 0;
                if (due && s.validLength() > lastPartialLength) {
                    Optional<LogPutResult> r = archive.putPiece(source, f, lastPartialLength);
                    if (r.isPresent()) {
                        partialsStored++;
                    }
                    lastPartialAt = Instant.now();
                    lastPartialLength = s.validLength();
                    lastArchived = name;
                    if (s.lastTime() != null) {
                        lastEventTime = s.lastTime();
                    }
                }
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            });
        } catch (IOException ignored) {
            // nothing to clean
        }
    }

    /** Configures a {@link BinlogReceiver}. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private Repository repository;
        private String source;
        private Path spoolDirectory;
        private String startFile;
        private Duration partialInterval = Duration.ofSeconds(10);
        private Duration pollInterval = Duration.ofMillis(500);
        private Path toolDirectory;
        private long replicaServerId = 4_200_000_000L;
        private boolean allowGap;

        private Builder() {
        }

        /** The server: {@code mysql://user@host:port} or {@code mariadb://…} (a database in the URL is ignored). */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url);
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password (copied; given to the tool through MYSQL_PWD, never on its command line). */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Source name in the archive (default: {@code server-<server_id>}, or the MySQL server_uuid). */
        public Builder source(String source) {
            this.source = source;
            return this;
        }

        /** Where the tool writes files before they are stored (default: a temporary directory, removed on close). */
        public Builder spoolDirectory(Path dir) {
            this.spoolDirectory = dir;
            return this;
        }

        /** First file to archive when the archive has none of this source yet (default: the server's oldest). */
        public Builder startFile(String file) {
            this.startFile = file;
            return this;
        }

        /** How often the new events of the file being written are stored (default 10 s): the recovery point's lag. */
        public Builder partialInterval(Duration interval) {
            if (interval == null || interval.isNegative()) {
                throw new ConfigurationException("partialInterval must not be negative");
            }
            this.partialInterval = interval;
            return this;
        }

        /** How often the spool directory is looked at (default 0.5 s). */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = Objects.requireNonNull(interval);
            return this;
        }

        /** Directory holding mariadb-binlog / mysqlbinlog (default: the PATH). */
        public Builder toolDirectory(Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        /** The server id the tool announces as a replica (default 4200000000); unique among a server's replicas. */
        public Builder replicaServerId(long id) {
            if (id < 1 || id > 4_294_967_295L) {
                throw new ConfigurationException("replicaServerId must be between 1 and 4294967295, was " + id);
            }
            this.replicaServerId = id;
            return this;
        }

        /** Continue after a gap (files purged before they were archived) instead of refusing to start. */
        public Builder allowGap(boolean allow) {
            this.allowGap = allow;
            return this;
        }

        public BinlogReceiver build() {
            return new BinlogReceiver(this);
        }
    }
}
