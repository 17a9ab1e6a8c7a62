package io.backupkit.postgres.internal.physical;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.postgres.Lsn;
import io.backupkit.postgres.TimelineHistory;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.spi.RestoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The recovery side of a physical restore: which timeline to follow, whether the archived WAL reaches
 * the target (refusing, with the recoverable window, when it does not), the WAL to stage, the
 * restore_command, and the recovery settings. {@link #compute} only reads; {@link #apply} writes.
 */
final class PitrPlan {
    private static final Logger LOG = LoggerFactory.getLogger(PitrPlan.class);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS 'UTC'").withZone(ZoneOffset.UTC);

    private final RestoreOptions o;
    private final PhysicalMetadata meta;
    private final String backup;
    private final long systemId;
    private final String timelineSetting;
    private final WalWindow window;
    private final Instant lastCommit;
    private final Path helperDir;
    private final String osUser;
    private RestoreCommandInstaller installer;
    private Repository repo;

    private PitrPlan(RestoreOptions o, PhysicalMetadata meta, String backup, String timelineSetting, WalWindow window, Instant lastCommit,
                     Path helperDir, String osUser) {
        this.o = o;
        this.meta = meta;
        this.backup = backup;
        this.systemId = Long.parseUnsignedLong(meta.systemIdentifier());
        this.timelineSetting = timelineSetting;
        this.window = window;
        this.lastCommit = lastCommit;
        this.helperDir = helperDir;
        this.osUser = osUser;
    }

    static Path defaultHelperDirectory(Path pgdata) {
        Path abs = pgdata.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + ".backupkit");
    }

    static PitrPlan compute(RestoreContext ctx, PhysicalMetadata meta, RestoreOptions o, String osUser) {
        String backup = ctx.snapshot().shortId();
        Path helper = o.helperDirectory() != null ? o.helperDirectory() : defaultHelperDirectory(o.pgdata());
        if (o.restoreCommand() == null) {
            new RestoreCommandInstaller(helper, osUser, null).requireFree();
        }
        if ("IMMEDIATE".equals(o.targetType())) {
            // recovery stops as soon as the backup is consistent: no archive needed, and no later timeline matters
            return new PitrPlan(o, meta, backup, "current", null, null, helper, osUser);
        }
        WalArchive wal = WalArchive.builder().repository(ctx.repository()).systemId(Long.parseUnsignedLong(meta.systemIdentifier())).build();
        long sysid = Long.parseUnsignedLong(meta.systemIdentifier());
        Map<Integer, TimelineHistory> histories = wal.histories(sysid);
        int target = targetTimeline(o.timeline(), meta, histories);
        List<WalWindow.Span> path = WalWindow.pathFrom(meta, backup, target, histories);
        WalWindow window = WalWindow.compute(wal, sysid, meta, path);
        Instant last = window.lastCommit(wal, sysid, meta);
        PitrPlan plan = new PitrPlan(o, meta, backup, Integer.toString(target), window, last, helper, osUser);
        plan.checkTarget();
        return plan;
    }

    /** "latest": the newest timeline in the archive (as PostgreSQL picks it); "current": the backup's. */
    static int targetTimeline(String setting, PhysicalMetadata meta, Map<Integer, TimelineHistory> histories) {
        if (setting == null || setting.equals("latest")) {
            int newest = meta.timeline();
            for (int t : histories.keySet()) {
                newest = Math.max(newest, t);
            }
            return newest;
        }
        if (setting.equals("current")) {
            return meta.timeline();
        }
        int t;
        try {
            t = Integer.parseInt(setting);
        } catch (NumberFormatException e) {
            throw new ConfigurationException("timeline must be latest, current or a number, was '" + setting + "'");
        }
        if (t != meta.timeline() && !histories.containsKey(t)) {
            throw new ConfigurationException("timeline " + t + " is not in the WAL archive (no " + WalNames.historyName(t)
                    + "); archived timelines: " + (histories.isEmpty() ? "only " + meta.timeline() : histories.keySet()));
        }
        return t;
    }

    private String windowText() {
        StringBuilder sb = new StringBuilder("the recoverable window of base backup ").append(backup).append(" is ")
                .append(TIME.format(meta.stopTime())).append(" (").append(meta.stopLsn()).append(", when the backup ended) to ");
        if (lastCommit != null) {
            sb.append(TIME.format(lastCommit)).append(" (the last archived commit; WAL up to ").append(window.contiguousTo()).append(')');
        } else {
            sb.append(window.contiguousTo()).append(" (no transaction committed in the archived WAL after the backup)");
        }
        sb.append(" on timeline ").append(window.describePath());
        return sb.toString();
    }

    private String gapText() {
        return "WAL segment " + window.gap() + " is missing from the repository's archive while later WAL (" + window.afterGap()
                + ") exists: recovery cannot get past it";
    }

    /** Refuses a target the archived WAL cannot reach, before anything is written. */
    private void checkTarget() {
        switch (o.targetType()) {
            case "LATEST" -> {
                if (window.gap() != null) {
                    throw new ConfigurationException(gapText() + ", and replaying to the latest WAL would silently stop there. "
                            + "Restore to a target before " + window.contiguousTo() + " or put the segment back; " + windowText());
                }
            }
            case "TIME" -> {
                Instant t = o.targetTime();
                if (t.isBefore(meta.stopTime())) {
                    throw new ConfigurationException("target time " + TIME.format(t) + " is before base backup " + backup
                            + " was consistent (" + TIME.format(meta.stopTime()) + "): restore an older base backup (or let backupkit "
                            + "choose with 'latest'); " + windowText());
                }
                if (lastCommit == null) {
                    throw new ConfigurationException("no transaction committed in the archived WAL after base backup " + backup
                            + " ended, so recovery cannot find where " + TIME.format(t) + " is; use --to-immediate, or latest to replay "
                            + "everything archived; " + windowText() + (window.gap() != null ? ". " + gapText() : ""));
                }
                if (!t.isBefore(lastCommit)) {
                    throw new ConfigurationException("target time " + TIME.format(t) + " is outside the recoverable window: "
                            + windowText() + (window.gap() != null ? ". " + gapText() : "")
                            + ". Use latest to replay everything archived");
                }
            }
            case "LSN" -> {
                Lsn t = o.targetLsn();
                if (t.isBefore(meta.stopLsn())) {
                    throw new ConfigurationException("target LSN " + t + " is before base backup " + backup + " was consistent ("
                            + meta.stopLsn() + "); " + windowText());
                }
                if (!t.isBefore(window.contiguousTo())) {
                    throw new ConfigurationException("target LSN " + t + " is outside the recoverable window: " + windowText()
                            + (window.gap() != null ? ". " + gapText() : ""));
                }
            }
            default -> {
                // xid and restore point targets are looked for while the WAL is staged
            }
        }
    }

    List<String> actions() {
        List<String> a = new ArrayList<>();
        if (window == null) {
            a.add("recover to " + o.targetDescription() + " with the WAL inside the snapshot (" + meta.startWal() + " to " + meta.stopWal() + ")");
        } else {
            a.add("recover from " + meta.startLsn() + " on timeline " + window.describePath() + " to " + o.targetDescription()
                    + "; " + windowText());
            if (o.stageWal() && o.restoreCommand() == null) {
                long n = window.steps().stream().filter(s -> !s.included()).count();
                a.add("stage up to " + n + " archived WAL segments in " + helperDir.resolve(RestoreCommandInstaller.SPOOL));
            }
        }
        a.add("restore_command: " + (o.restoreCommand() != null ? o.restoreCommand()
                : helperDir.resolve(RestoreCommandInstaller.SCRIPT) + " (java, backupkit jars and a new key-file slot in " + helperDir + ")"));
        a.add("recovery settings in postgresql.auto.conf: " + String.join(", ", settings("…").keySet()) + "; recovery.signal");
        if (!o.archiving()) {
            a.add("archive_mode = off in the restored copy (it must not archive into the source's WAL)");
        }
        return a;
    }

    private Map<String, String> settings(String restoreCommand) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("restore_command", restoreCommand);
        m.putAll(o.settings());
        m.put("recovery_target_timeline", timelineSetting);
        if (o.action() != null && !"LATEST".equals(o.targetType())) {
            m.put("recovery_target_action", o.action());
        }
        if (!o.archiving()) {
            m.put("archive_mode", "off");
        }
        return m;
    }

    /**
     * Sets up the generated restore_command's helper directory (jars, key slot, script), stages the
     * WAL the target needs and runs the command once as the server's user. Touches nothing inside the
     * data directory, so it runs while the snapshot is unpacked. Nothing to do for an explicit command.
     */
    void prepareRestoreCommand(RestoreContext ctx, Path pgdata, UserPrincipal owner) throws IOException {
        this.repo = ctx.repository();
        if (o.restoreCommand() != null) {
            return;
        }
        installer = new RestoreCommandInstaller(helperDir, osUser, owner);
        Set<String> inPgWal = new LinkedHashSet<>();
        long seg = meta.walSegmentSize();
        for (long s = meta.startLsn().segmentNumber(seg); s <= PhysicalMetadata.lastSegment(meta.stopLsn(), seg); s++) {
            inPgWal.add(WalNames.segmentName(meta.timeline(), s, seg));
        }
        List<Path> cp = o.classpath().isEmpty() ? RestoreCommandInstaller.classpath(repo) : o.classpath();
        Path java = o.javaExecutable() != null ? o.javaExecutable() : RestoreCommandInstaller.currentJava();
        installer.install(repo, systemId, java, cp, ctx.snapshot().id(), pgdata, inPgWal);
        // the command's JVM starts while WAL is staged: both take a while, neither needs the other
        String archived = window == null ? null : window.steps().stream()
                .filter(x -> !x.included() && x.validBytes() == meta.walSegmentSize()).map(WalWindow.Step::fileName).findFirst().orElse(null);
        CompletableFuture<Void> selfTest = CompletableFuture.runAsync(() -> installer.selfTest(archived));
        try {
            if (window != null && o.stageWal()) {
                stage(ctx, installer);
            }
        } finally {
            try {
                selfTest.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof BackupException b) {
                    throw b;
                }
                throw new EngineException("testing the restore_command failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
    }

    /** Writes recovery.signal and the recovery settings into the unpacked data directory. */
    void configure(RestoreContext ctx, Path pgdata, UserPrincipal owner) throws IOException {
        String command = installer != null ? installer.setting() : o.restoreCommand();
        String comment = "restore of snapshot " + ctx.snapshot().shortId() + " to " + o.targetDescription() + " on " + Instant.now()
                + (installer == null ? "" : "\nrestore_command helper: " + helperDir + " (see its README for how to remove it)");
        RecoveryConfig.write(pgdata, settings(command), comment);
        for (String f : List.of("postgresql.auto.conf", "recovery.signal")) {
            Path p = pgdata.resolve(f);
            Files.setPosixFilePermissions(p, TarExtractor.permissions(0600));
            if (owner != null) {
                Files.setOwner(p, owner);
            }
        }
    }

    /**
     * Fetches the archived WAL recovery will read into the helper's spool, a few segments at once, in
     * order; for a time, xid or restore-point target it scans each segment and stops one segment after
     * the one where recovery will stop (the server reads a little ahead).
     */
    private void stage(RestoreContext ctx, RestoreCommandInstaller inst) throws IOException {
        WalArchive wal = WalArchive.builder().repository(repo).systemId(systemId).build();
        long seg = meta.walSegmentSize();
        Path spool = inst.spool();
        // history files of the path, so the server's timeline lookups need no JVM
        for (WalWindow.Span s : window.path()) {
            if (s.timeline() > 1) {
                String h = WalNames.historyName(s.timeline());
                if (wal.fetch(systemId, h, spool.resolve(h)).found()) {
                    inst.own(spool.resolve(h), 0600);
                }
            }
        }
        List<WalWindow.Step> steps = window.steps().stream().filter(s -> !s.included()).toList();
        int parallel = Math.max(1, ctx.parallelism());
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "backupkit-wal-stage");
            t.setDaemon(true);
            return t;
        });
        boolean scan = switch (o.targetType()) {
            case "TIME", "XID", "NAME", "LSN" -> true;
            default -> false;
        };
        long staged = 0;
        boolean found = false;
        int extra = 0;
        try {
            Deque<CompletableFuture<WalWindow.Step>> inFlight = new ArrayDeque<>();
            int next = 0;
            while (next < steps.size() || !inFlight.isEmpty()) {
                while (next < steps.size() && inFlight.size() < parallel * 2 && !found) {
                    WalWindow.Step s = steps.get(next++);
                    inFlight.add(CompletableFuture.supplyAsync(() -> {
                        Path dest = spool.resolve(s.fileName());
                        wal.fetch(systemId, s.fileName(), dest);
                        return s;
                    }, pool));
                }
                if (inFlight.isEmpty()) {
                    break;
                }
                WalWindow.Step done = inFlight.poll().join();
                Path file = spool.resolve(done.fileName());
                inst.own(file, 0600);
                staged++;
                if (found) {
                    if (++extra >= 1) {
                        inFlight.forEach(f -> f.cancel(true));
                        break;
                    }
                    continue;
                }
                if (scan && reachesTarget(file, done, seg)) {
                    found = true;
                }
            }
        } catch (CompletionException e) {
            if (e.getCause() instanceof BackupException b) {
                throw b;
            }
            throw new EngineException("staging WAL failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        if (!found && ("XID".equals(o.targetType()) || "NAME".equals(o.targetType()))) {
            throw new ConfigurationException(o.targetDescription() + " is not in the archived WAL from " + meta.startLsn() + " to "
                    + window.contiguousTo() + " on timeline " + window.describePath() + " (searched every segment)"
                    + (window.gap() != null ? ". " + gapText() : "") + "; " + windowText());
        }
        // staged files that the scan made unnecessary would only take space
        LOG.info("staged {} WAL segments for recovery to {} in {}", staged, o.targetDescription(), spool);
    }

    private boolean reachesTarget(Path file, WalWindow.Step s, long seg) throws IOException {
        Lsn start = new Lsn(s.segment() * seg);
        switch (o.targetType()) {
            case "LSN" -> {
                return !o.targetLsn().isBefore(start) && o.targetLsn().isBefore(new Lsn(start.value() + seg));
            }
            case "TIME" -> {
                return WalScanner.scan(Files.readAllBytes(file), start, o.targetTime()).firstCommitAfterTime() != null;
            }
            case "XID" -> {
                long xid = Long.parseLong(o.settings().get("recovery_target_xid"));
                return WalScanner.scan(Files.readAllBytes(file), start).commitXids().contains(xid);
            }
            case "NAME" -> {
                String name = o.settings().get("recovery_target_name");
                return WalScanner.scan(Files.readAllBytes(file), start).restorePoints().stream().anyMatch(p -> p.name().equals(name));
            }
            default -> {
                return false;
            }
        }
    }

    /** Removes what {@link #apply} set up, after a failed restore. */
    void undo(RestoreContext ctx) {
        if (installer != null) {
            installer.undo(repo != null ? repo : ctx.repository());
        }
    }

    /** Where the generated restore_command lives, or null. */
    Path helperDirectory() {
        return installer == null ? null : installer.directory();
    }

    String keySlotId() {
        return installer == null ? null : installer.keySlotId();
    }
}
