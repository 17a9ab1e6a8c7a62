package io.backupkit.postgres.internal.physical;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.postgres.internal.FileTrees;
import io.backupkit.spi.RestoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Restores a physical snapshot into an empty data directory and sets it up for point-in-time
 * recovery: the tar streams unpacked in parallel (tablespaces where the layout puts them, their
 * links pointing there), {@code recovery.signal}, the recovery settings and a {@code restore_command}
 * in {@code postgresql.auto.conf}, archiving off. Checks everything it can before writing anything;
 * if it fails after it started writing, it removes what it wrote.
 */
public final class PhysicalRestore {
    private static final Logger LOG = LoggerFactory.getLogger(PhysicalRestore.class);
    private final RestoreOptions o;

    public PhysicalRestore(RestoreOptions options) {
        this.o = options;
    }

    /** The checks and decisions a restore makes before it writes anything. */
    private record Prepared(Snapshot snapshot, PhysicalMetadata meta, RestoreLayout layout, PitrPlan pitr, long at) {
    }

    /**
     * What {@link #plan} found, for the {@link #restore} that follows it with the same context (a restore
     * run plans first): the WAL archive is listed and its newest segment read once, not twice. Kept
     * for a minute at most, so a restore much later checks again.
     */
    private static final Map<RestoreContext, Prepared> PLANNED = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private Prepared prepare(RestoreContext ctx) {
        Prepared planned = PLANNED.remove(ctx);
        if (planned != null && System.nanoTime() - planned.at() < 60_000_000_000L && planned.layout().pgdata().equals(o.pgdata())) {
            planned.layout().requireEmpty();
            return planned;
        }
        Snapshot s = ctx.snapshot();
        PhysicalMetadata meta = PhysicalMetadata.of(s);
        RestoreLayout layout = new RestoreLayout(o.pgdata(), meta.tablespaces(), o.tablespaceMappings());
        for (SnapshotStream st : s.streams()) {
            layout.destination(st.name());
        }
        layout.requireEmpty();
        PitrPlan pitr = PitrPlan.compute(ctx, meta, o, effectiveOsUser());
        return new Prepared(s, meta, layout, pitr, System.nanoTime());
    }

    public RestorePlan plan(RestoreContext ctx) {
        Prepared p = prepare(ctx);
        PLANNED.put(ctx, p);
        List<String> actions = new ArrayList<>();
        actions.add("create the data directory " + p.layout().pgdata() + owner());
        long bytes = 0;
        for (SnapshotStream st : p.snapshot().streams()) {
            Path dest = p.layout().destination(st.name());
            if (dest != null) {
                actions.add("unpack " + st.name() + " (" + st.size() + " bytes) into " + dest);
                bytes += st.size();
            }
        }
        p.layout().tablespaceDirs().forEach((oid, dir) -> {
            ClusterInfo.Tablespace t = p.layout().tablespace(oid);
            actions.add("link tablespace " + t.name() + " (oid " + oid + ", was " + t.location() + ") to " + dir);
        });
        actions.addAll(p.pitr().actions());
        return new RestorePlan(p.layout().pgdata().toString(), actions, bytes);
    }

    public void restore(RestoreContext ctx) {
        long t0 = System.nanoTime();
        Prepared p = prepare(ctx);
        RestoreLayout layout = p.layout();
        UserPrincipal owner = owner(layout.pgdata());
        List<Created> created = new ArrayList<>();
        boolean done = false;
        CompletableFuture<Void> helper = null;
        try {
            createEmpty(layout.pgdata(), owner, created);
            for (Path dir : layout.tablespaceDirs().values()) {
                createEmpty(dir, owner, created);
            }
            // the restore_command's helper (jars, key slot, staged WAL, self-test) is set up while the snapshot is unpacked
            helper = CompletableFuture.runAsync(() -> {
                try {
                    p.pitr().prepareRestoreCommand(ctx, layout.pgdata(), owner);
                } catch (IOException e) {
                    throw new EngineException("setting up the restore_command failed: " + e.getMessage(), e);
                }
            }, daemonExecutor("backupkit-restore-command"));
            long t1 = System.nanoTime();
            SnapshotUnpacker.unpack(ctx, layout, owner);
            long t2 = System.nanoTime();
            join(helper);
            long t3 = System.nanoTime();
            Files.deleteIfExists(layout.pgdata().resolve("postmaster.pid"));
            // the links are in place, pointing where the layout put each tablespace; an old map would move them back
            Files.deleteIfExists(layout.pgdata().resolve("tablespace_map"));
            p.pitr().configure(ctx, layout.pgdata(), owner);
            done = true;
            LOG.info("restored snapshot {} into {} for recovery to {} in {} ms (checks {} ms, unpacking {} ms, then {} ms more for the "
                    + "restore_command and staged WAL)", p.snapshot().shortId(), layout.pgdata(), o.targetDescription(),
                    (System.nanoTime() - t0) / 1_000_000, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
        } catch (IOException e) {
            throw new EngineException("restoring into " + layout.pgdata() + " failed: " + e.getMessage(), e);
        } finally {
            if (!done) {
                if (helper != null) {
                    try {
                        helper.join();
                    } catch (RuntimeException ignored) {
                        // the first failure is the one reported
                    }
                }
                p.pitr().undo(ctx);
                cleanUp(created);
            }
        }
    }

    private static java.util.concurrent.Executor daemonExecutor(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
        };
    }

    private static void join(CompletableFuture<Void> f) {
        try {
            f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BackupException b) {
                throw b;
            }
            throw new EngineException(e.getCause().getMessage(), e.getCause());
        }
    }

    private String owner() {
        String u = effectiveOsUser();
        return u == null ? "" : " (owned by " + u + ")";
    }

    /** The server's OS user: as configured, else "postgres" when this JVM runs as root (PostgreSQL refuses root). */
    String effectiveOsUser() {
        if (o.osUser() != null) {
            return o.osUser();
        }
        return "root".equals(System.getProperty("user.name")) ? "postgres" : null;
    }

    private UserPrincipal owner(Path pgdata) {
        String u = effectiveOsUser();
        if (u == null) {
            return null;
        }
        try {
            return pgdata.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(u);
        } catch (IOException e) {
            throw new ConfigurationException("the OS user " + u + " that is to own the restored data directory does not exist"
                    + (o.osUser() == null ? " (this JVM runs as root, and PostgreSQL refuses to run as root: give the server's user)" : ""), e);
        }
    }

    /** A directory a restore wrote into: made by it (removed on failure) or found empty (emptied on failure). */
    private record Created(Path dir, boolean existed) {
    }

    private static void createEmpty(Path dir, UserPrincipal owner, List<Created> created) throws IOException {
        if (!Files.exists(dir)) {
            Path top = dir;
            while (top.getParent() != null && !Files.exists(top.getParent())) {
                top = top.getParent();
            }
            Files.createDirectories(dir);
            created.add(new Created(top, false));
        } else {
            created.add(new Created(dir, true));
        }
        Files.setPosixFilePermissions(dir, TarExtractor.permissions(0700));
        if (owner != null) {
            Files.setOwner(dir, owner);
        }
    }

    /** Removes what a failed restore wrote. */
    private static void cleanUp(List<Created> created) {
        for (Created c : created) {
            if (c.existed()) {
                deleteContents(c.dir());
            } else {
                FileTrees.deleteQuietly(c.dir());
            }
        }
    }

    private static void deleteContents(Path dir) {
        try (var s = Files.list(dir)) {
            s.forEach(FileTrees::deleteQuietly);
        } catch (IOException e) {
            LOG.warn("could not clean up {}: {}", dir, e.getMessage());
        }
    }
}
