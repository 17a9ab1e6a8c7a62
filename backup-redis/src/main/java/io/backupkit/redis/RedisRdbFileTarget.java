package io.backupkit.redis;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.TargetExistsException;
import io.backupkit.redis.internal.RdbFormatException;
import io.backupkit.redis.internal.RdbParser;
import io.backupkit.redis.internal.SnapshotStats;
import io.backupkit.redis.internal.TeeInputStream;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Restores a Redis snapshot as an RDB file, for placing into a server's data directory (a server
 * that is stopped, or one to be started on it): the snapshot's RDB is written under a temporary name
 * beside the file, checked while it is written (RDB structure and CRC-64, per-database key digests
 * equal to those recorded at backup), synced and renamed into place. An existing file is refused
 * unless {@link Builder#overwrite()}. The procedure around it (stop, AOF) is in docs/sqlite-redis.md.
 *
 * <pre>{@code
 * RestoreTarget t = RedisRdbFileTarget.builder().path(Path.of("/var/lib/redis/dump.rdb")).build();
 * // CLI: backupkit restore latest --target rdb:/var/lib/redis/dump.rdb
 * }</pre>
 */
public final class RedisRdbFileTarget implements RestoreTarget {
    private final Path path;
    private final boolean overwrite;

    private RedisRdbFileTarget(Builder b) {
        this.path = Objects.requireNonNull(b.path, "path (or url) is required");
        this.overwrite = b.overwrite;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether {@code url} is {@code rdb:PATH}. */
    public static boolean isRdbUrl(String url) {
        return url != null && url.toLowerCase(Locale.ROOT).startsWith("rdb:");
    }

    @Override
    public String engine() {
        return RedisEngine.NAME;
    }

    @Override
    public String describe() {
        return "rdb:" + path;
    }

    @Override
    public RestorePlan plan(RestoreContext context) {
        SnapshotStream stream = stream(context.snapshot());
        boolean exists = Files.exists(path);
        List<String> actions = exists && !overwrite
                ? List.of("refuse: " + path + " exists (overwrite not asked for)")
                : List.of("write the RDB (" + stream.size() + " bytes, RDB version " + context.snapshot().metadata().getOrDefault("rdbVersion", "?")
                        + ") to a temporary file in " + path.getParent() + " and check it", (exists ? "replace " : "move it to ") + path);
        return new RestorePlan(describe(), actions, stream.size());
    }

    @Override
    public void restore(RestoreContext context) {
        Snapshot s = context.snapshot();
        SnapshotStream stream = stream(s);
        if (Files.exists(path) && !overwrite) {
            throw new TargetExistsException("RDB file " + path, "RDB file " + path + " exists; nothing was changed. Restore to a new path, "
                    + "or replace it (RedisRdbFileTarget.builder().overwrite(), engine option dropExisting=true, CLI --drop-existing --yes)");
        }
        if (Files.isDirectory(path)) {
            throw new ConfigurationException("RDB restore target " + path + " is a directory; give the file, e.g. " + path.resolve("dump.rdb"));
        }
        Path dir = path.getParent();
        Path temp = dir.resolve("." + path.getFileName() + ".backupkit-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            Files.createDirectories(dir);
            SnapshotStats stats = new SnapshotStats(0, 0);
            try (InputStream in = context.openStream(stream.name());
                 FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                new RdbParser(new TeeInputStream(in, out), false).parse(stats);
                if (in.read() >= 0) {
                    throw new IntegrityException("snapshot " + s.shortId(), "stream " + stream.name() + " has bytes after the end of the RDB");
                }
                ch.force(true);
            } catch (RdbFormatException e) {
                throw new IntegrityException("snapshot " + s.shortId(), "stream " + stream.name() + " is not a valid RDB: " + e.getMessage());
            }
            if (s.metadata().get("databases") instanceof List<?> recorded) {
                for (Object o : recorded) {
                    if (o instanceof Map<?, ?> m && m.get("db") instanceof Number db) {
                        SnapshotStats.Db d = stats.databases().get(db.intValue());
                        if (d == null || !Objects.equals(m.get("digest"), d.allDigest.hex())) {
                            throw new IntegrityException("snapshot " + s.shortId(), "the RDB's content digest of database " + db
                                    + " differs from the one recorded at backup");
                        }
                    }
                }
            }
            try {
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the RDB file " + path + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // best effort; the name says what it is
            }
        }
    }

    private SnapshotStream stream(Snapshot s) {
        if (!RedisEngine.NAME.equals(s.engine())) {
            throw new ConfigurationException("snapshot " + s.shortId() + " is a " + s.engine() + " snapshot; an RDB file holds only redis "
                    + "snapshots");
        }
        return s.streams().stream().filter(st -> st.name().equals(RedisSource.STREAM)).findFirst()
                .orElseThrow(() -> new IntegrityException("snapshot " + s.shortId(), "the Redis snapshot has no stream '" + RedisSource.STREAM + "'"));
    }

    /** Builds a {@link RedisRdbFileTarget}; {@link #path(Path)} or {@link #url(String)} is required. */
    public static final class Builder {
        private Path path;
        private boolean overwrite;

        private Builder() {
        }

        public Builder path(Path path) {
            this.path = path.toAbsolutePath().normalize();
            return this;
        }

        /** {@code rdb:PATH} (relative or absolute). */
        public Builder url(String url) {
            if (!isRdbUrl(url) || url.length() == 4) {
                throw new ConfigurationException("not an RDB file URL: use rdb:PATH, e.g. rdb:/var/lib/redis/dump.rdb");
            }
            return path(Path.of(url.substring(4)));
        }

        public Builder overwrite() {
            return overwrite(true);
        }

        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        public RedisRdbFileTarget build() {
            return new RedisRdbFileTarget(this);
        }
    }
}
