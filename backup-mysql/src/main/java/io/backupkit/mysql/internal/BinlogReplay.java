package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.mysql.BinlogArchive;
import io.backupkit.mysql.BinlogFile;
import io.backupkit.mysql.BinlogPosition;
import io.backupkit.mysql.BinlogRecoveryTarget;
import io.backupkit.spi.RestoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Point-in-time recovery on top of a restored snapshot: fetches the archived binary logs from the
 * snapshot's position to the target, and pipes {@code mariadb-binlog --start-position … --stop-…}
 * (or {@code mysqlbinlog}) into the {@code mariadb} (or {@code mysql}) client. A database snapshot
 * replays only that database's events (renamed to where it was restored); a server snapshot
 * replays everything.
 */
public final class BinlogReplay implements LogicalLoad.AfterLoad {
    private static final Logger LOG = LoggerFactory.getLogger(BinlogReplay.class);
    private static final DateTimeFormatter DATETIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private final RestoreContext ctx;
    private final MySqlConnectionConfig cfg;
    private final BinlogRecoveryTarget target;
    private final String sourceOverride;
    private final Path toolDirectory;

    /** What will be replayed. */
    record Plan(String source, BinlogPosition start, List<BinlogFile> files, String stopDescription) {
    }

    public BinlogReplay(RestoreContext ctx, MySqlConnectionConfig cfg, BinlogRecoveryTarget target, String sourceOverride, Path toolDirectory) {
        this.ctx = ctx;
        this.cfg = cfg;
        this.target = target;
        this.sourceOverride = sourceOverride;
        this.toolDirectory = toolDirectory;
    }

    /** The archive source a snapshot's binary logs are under. */
    public static String sourceOf(SnapshotModel model, String override) {
        return override != null ? override : BinlogArchive.defaultSourceName(model.serverId(), model.serverUuid());
    }

    Plan plan() {
        SnapshotModel model = SnapshotModel.of(ctx.snapshot());
        BinlogPosition start = model.binlogPosition().orElseThrow(() -> new ConfigurationException("snapshot "
                + ctx.snapshot().shortId() + " has no binary log position (the server's binary log was off, or the backup user "
                + "could not read it), so no point-in-time recovery can start from it"));
        String source = sourceOf(model, sourceOverride);
        BinlogArchive archive = BinlogArchive.of(ctx.repository());
        BinlogArchive.Coverage cov = archive.coverage(source, start);
        if (cov.files().isEmpty()) {
            throw new ConfigurationException("binlog gap: " + cov.missing().get(0) + ", where snapshot " + ctx.snapshot().shortId()
                    + " starts (" + start + "), is not in the binary log archive of source " + source + " in " + archive.location()
                    + " (sources there: " + archive.sources() + "); is a binlog receiver running for this server?");
        }
        Instant snapshotTime = ctx.snapshot().time();
        List<BinlogFile> files = new ArrayList<>();
        String stop;
        switch (target.kind()) {
            case TIME -> {
                Instant t = target.stopTime();
                Object st = ctx.snapshot().metadata().get("snapshotTime");
                Instant taken = st == null ? snapshotTime : Instant.parse(st.toString());
                if (target.time().isBefore(taken)) {
                    throw new ConfigurationException("the recovery target " + target.time() + " is before snapshot " + ctx.snapshot().shortId()
                            + " was taken (" + taken + "); restore an older snapshot");
                }
                boolean reached = false;
                for (BinlogFile f : cov.files()) {
                    files.add(f);
                    if ((f.lastEventTime() != null && !f.lastEventTime().isBefore(t)) || (f.archivedAt() != null && !f.archivedAt().isBefore(t)
                            && !f.complete())) {
                        reached = true;
                        break;
                    }
                }
                if (!reached) {
                    BinlogFile last = cov.files().get(cov.files().size() - 1);
                    if (cov.hasGap()) {
                        throw new ConfigurationException("binlog gap: " + cov.missing().get(0) + " is missing from the archive of source "
                                + source + "; recovery to " + target.time() + " needs it (the archive has events up to "
                                + cov.lastEvent() + " before the gap)");
                    }
                    throw new ConfigurationException("the binary log archive of source " + source + " reaches only to " + cov.lastEvent()
                            + " (" + last.name() + (last.complete() ? "" : ", partial, stored " + last.archivedAt()) + "); the recovery "
                            + "target " + target.time() + " is later. Is the binlog receiver running? Its last piece lags by up to "
                            + "its partialInterval");
                }
                stop = "up to " + DATETIME.format(t) + " UTC";
            }
            case POSITION -> {
                BinlogPosition p = target.position();
                if (p.compareTo(start) < 0) {
                    throw new ConfigurationException("the recovery target " + p + " is before snapshot " + ctx.snapshot().shortId()
                            + " (" + start + "); restore an older snapshot");
                }
                for (BinlogFile f : cov.files()) {
                    files.add(f);
                    if (f.sequence() == p.sequence()) {
                        if (!f.complete() && f.length() < p.position()) {
                            throw new ConfigurationException("the binary log archive of source " + source + " holds " + f.name()
                                    + " only up to offset " + f.length() + "; the recovery target " + p + " is later");
                        }
                        break;
                    }
                }
                if (files.get(files.size() - 1).sequence() != p.sequence()) {
                    throw new ConfigurationException(cov.hasGap() ? "binlog gap: " + cov.missing().get(0) + " is missing from the archive "
                            + "of source " + source + "; recovery to " + p + " needs it"
                            : "the binary log archive of source " + source + " has no " + p.file() + " (it ends with "
                            + files.get(files.size() - 1).name() + ")");
                }
                stop = "up to " + p;
            }
            default -> {
                if (cov.hasGap()) {
                    throw new ConfigurationException("binlog gap: " + cov.missing().get(0) + " is missing from the archive of source "
                            + source + " while later files are there; recovery to the latest event needs it (without the gap the "
                            + "archive reaches " + cov.lastEvent() + ": recover to that time or earlier)");
                }
                files.addAll(cov.files());
                stop = "to the last archived event (" + cov.lastEvent() + ")";
            }
        }
        return new Plan(source, start, files, stop);
    }

    @Override
    public List<String> describe(Map<String, String> renames) {
        Plan p = plan();
        BinlogFile last = p.files().get(p.files().size() - 1);
        return List.of("replay binary logs of source " + p.source() + " from " + p.start() + " through " + last.name()
                + (last.complete() ? "" : " (partial)") + " " + p.stopDescription());
    }

    @Override
    public void run(Map<String, String> renames, Connection session) {
        Plan plan = plan();
        SnapshotModel model = SnapshotModel.of(ctx.snapshot());
        ServerVersion v;
        try {
            v = LogicalDump.version(session);
        } catch (java.sql.SQLException e) {
            throw new EngineException("cannot read the version of " + cfg.server() + ": " + e.getMessage(), e);
        }
        Path binlogTool = Tools.locate(v.binlogToolNames(), toolDirectory);
        Path client = Tools.locate(v.clientToolNames(), toolDirectory);
        BinlogArchive archive = BinlogArchive.of(ctx.repository());
        Path dir;
        try {
            dir = Files.createTempDirectory("backupkit-binlog-replay-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for binary logs", e);
        }
        try {
            List<String> cmd = new ArrayList<>(List.of(binlogTool.toString(), "--start-position=" + plan.start().position()));
            if (target.kind() == BinlogRecoveryTarget.Kind.TIME) {
                cmd.add("--stop-datetime=" + DATETIME.format(target.stopTime()));
            } else if (target.kind() == BinlogRecoveryTarget.Kind.POSITION) {
                cmd.add("--stop-position=" + target.position().position());
            }
            boolean mariaTool = binlogTool.getFileName().toString().startsWith("mariadb");
            // replayed transactions get the target's own GTIDs: re-logging the source's (older) ones would put them out of
            // order in the target's binary log, and archived logs may hold such out-of-order GTIDs already
            cmd.add(mariaTool ? "--skip-gtid-strict-mode" : "--skip-gtids");
            if ("database".equals(model.scope())) {
                String db = model.databases().get(0);
                String to = renames.getOrDefault(db, db);
                // MariaDB's tool filters on the name in the log, MySQL's on the rewritten one
                cmd.add("--database=" + (mariaTool || to.equals(db) ? db : to));
            }
            for (Map.Entry<String, String> e : renames.entrySet()) {
                if (!e.getKey().equals(e.getValue())) {
                    cmd.add("--rewrite-db=" + e.getKey() + "->" + e.getValue());
                }
            }
            for (BinlogFile f : plan.files()) {
                Path local = dir.resolve(f.name());
                archive.fetch(f, local);
                cmd.add(local.toString());
            }
            List<String> clientCmd = List.of(client.toString(), "--protocol=TCP", "--host=" + cfg.host(), "--port=" + cfg.port(),
                    "--user=" + cfg.user(), "--binary-mode", "--batch", "--skip-column-names");
            LOG.info("replaying {} binary log file(s) of {} from {} {}", plan.files().size(), plan.source(), plan.start(), plan.stopDescription());
            pipe(cmd, clientCmd, plan, mariaTool);
        } finally {
            deleteRecursively(dir);
        }
    }

    /** Runs {@code producer | consumer}; both must exit 0. */
    private void pipe(List<String> producer, List<String> consumer, Plan plan, boolean stripGtids) {
        ProcessBuilder pb1 = new ProcessBuilder(producer);
        pb1.environment().put("TZ", "UTC");
        ProcessBuilder pb2 = new ProcessBuilder(consumer).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        if (cfg.hasPassword()) {
            pb2.environment().put("MYSQL_PWD", cfg.passwordForChildEnvironment());
        }
        Process p1 = null;
        Process p2 = null;
        try {
            p1 = pb1.start();
            p2 = pb2.start();
            p1.getOutputStream().close();
            ByteArrayOutputStream err1 = new ByteArrayOutputStream();
            ByteArrayOutputStream err2 = new ByteArrayOutputStream();
            Thread e1 = drain(p1.getErrorStream(), err1);
            Thread e2 = drain(p2.getErrorStream(), err2);
            IOException copyError = null;
            try (InputStream in = p1.getInputStream(); OutputStream out = p2.getOutputStream()) {
                if (stripGtids) {
                    copyWithoutGtids(in, out);
                } else {
                    in.transferTo(out);
                }
            } catch (IOException e) {
                copyError = e;
            }
            if (!p1.waitFor(6, TimeUnit.HOURS) || !p2.waitFor(6, TimeUnit.HOURS)) {
                throw new EngineException("the binary log replay into " + cfg.server() + " did not finish within 6 hours");
            }
            e1.join();
            e2.join();
            String first = plan.files().get(0).name();
            String last = plan.files().get(plan.files().size() - 1).name();
            if (p2.exitValue() != 0) {
                throw new EngineException("replaying binary logs " + first + " to " + last + " into " + cfg.server() + " failed ("
                        + consumer.get(0) + " exit code " + p2.exitValue() + ")", p2.exitValue(), tail(err2), null);
            }
            if (p1.exitValue() != 0) {
                throw new EngineException("reading binary logs " + first + " to " + last + " failed (" + producer.get(0) + " exit code "
                        + p1.exitValue() + ")", p1.exitValue(), tail(err1), copyError);
            }
            if (copyError != null) {
                throw new EngineException("piping binary logs into " + consumer.get(0) + " failed: " + copyError.getMessage(), copyError);
            }
        } catch (IOException e) {
            throw new EngineException("cannot run the binary log replay: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while replaying binary logs", e);
        } finally {
            if (p1 != null) {
                p1.destroyForcibly();
            }
            if (p2 != null) {
                p2.destroyForcibly();
            }
        }
    }

    private static final byte[][] GTID_LINES = {
            "/*M!100001 SET @@session.gtid_domain_id=".getBytes(StandardCharsets.US_ASCII),
            "/*M!100001 SET @@session.server_id=".getBytes(StandardCharsets.US_ASCII),
            "/*M!100001 SET @@session.gtid_seq_no=".getBytes(StandardCharsets.US_ASCII)};

    /** Copies mariadb-binlog's output without the lines that make the session log the source's GTIDs. */
    static void copyWithoutGtids(InputStream in, OutputStream out) throws IOException {
        java.io.BufferedInputStream bin = new java.io.BufferedInputStream(in, 1 << 16);
        java.io.BufferedOutputStream bout = new java.io.BufferedOutputStream(out, 1 << 16);
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int b;
        while ((b = bin.read()) != -1) {
            line.write(b);
            if (b == '\n') {
                writeUnlessGtid(line, bout);
            }
        }
        writeUnlessGtid(line, bout);
        bout.flush();
    }

    private static void writeUnlessGtid(ByteArrayOutputStream line, OutputStream out) throws IOException {
        byte[] l = line.toByteArray();
        line.reset();
        for (byte[] prefix : GTID_LINES) {
            if (l.length >= prefix.length && java.util.Arrays.equals(l, 0, prefix.length, prefix, 0, prefix.length)) {
                return;
            }
        }
        out.write(l);
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream to) {
        Thread t = new Thread(() -> {
            try {
                in.transferTo(to);
            } catch (IOException ignored) {
                // the process ended
            }
        }, "backupkit-binlog-replay-stderr");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String tail(ByteArrayOutputStream b) {
        String s = b.toString(StandardCharsets.UTF_8).strip();
        return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
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
}
