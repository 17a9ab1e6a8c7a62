package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * A local copy of a repository's immutable metadata (index objects, snapshot manifests, blob lists), so
 * that reading them again costs no storage request: what a prune or a listing reads then grows with
 * what changed, not with the repository. Everything is content-addressed and checked again on every
 * read from the cache (hash of the name, or authentication of a sealed blob), so a damaged or altered
 * cache file is fetched again, never believed. Writes are best effort: a cache that cannot be written
 * only costs requests.
 */
public final class MetadataCache {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataCache.class);
    public static final MetadataCache NONE = new MetadataCache(null);
    /** Where blobs (blob lists) are cached, by hex id. */
    private static final String BLOBS = "blobs/";

    private final Path dir;

    private MetadataCache(Path dir) {
        this.dir = dir;
    }

    /** A cache for repository {@code repositoryId} under {@code base}. */
    public static MetadataCache at(Path base, String repositoryId) {
        return new MetadataCache(base.resolve(repositoryId));
    }

    public boolean enabled() {
        return dir != null;
    }

    /** A content-addressed object (its name ends in the SHA-256 of its bytes): from the cache if intact, else fetched. */
    public byte[] object(String name, Supplier<byte[]> fetch) {
        if (dir == null) {
            return fetch.get();
        }
        Path p = dir.resolve(name);
        byte[] cached = read(p);
        if (cached != null) {
            try {
                Formats.checkContentHash(name, cached);
                return cached;
            } catch (IntegrityException damaged) {
                LOG.warn("cached {} is damaged; fetching it again", name);
            }
        }
        byte[] fresh = fetch.get();
        writeFile(p, fresh);
        return fresh;
    }

    /**
     * A blob's plaintext through {@code decode} (which authenticates the sealed bytes and throws
     * {@link IntegrityException} when they are wrong), the sealed bytes cached under the blob's id.
     */
    public byte[] blob(BlobId id, Supplier<byte[]> fetchSealed, Function<byte[], byte[]> decode) {
        if (dir == null) {
            return decode.apply(fetchSealed.get());
        }
        Path p = dir.resolve(BLOBS + id.hex());
        byte[] cached = read(p);
        if (cached != null) {
            try {
                return decode.apply(cached);
            } catch (IntegrityException damaged) {
                LOG.warn("cached blob {} is damaged; fetching it again", id);
            }
        }
        byte[] sealed = fetchSealed.get();
        byte[] plain = decode.apply(sealed);
        writeFile(p, sealed);
        return plain;
    }

    /** Keeps a copy of an object this process just wrote. */
    public void put(String name, byte[] content) {
        if (dir != null) {
            writeFile(dir.resolve(name), content);
        }
    }

    /** Forgets cached objects under {@code prefix} ("index/", "snapshots/") that are not in {@code present}. */
    public void retain(String prefix, Set<String> present) {
        if (dir == null) {
            return;
        }
        Path root = dir.resolve(prefix);
        if (!Files.isDirectory(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(Files::isRegularFile).forEach(f -> {
                String name = dir.relativize(f).toString().replace('\\', '/');
                if (!name.contains(".tmp-") && !present.contains(name)) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException ignored) {
                        // retried next time
                    }
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.debug("cleaning the cache {} failed: {}", root, e.toString());
        }
    }

    /** Forgets cached blobs other than {@code keep} (hex ids): the blob lists of deleted snapshots. */
    public void retainBlobs(Set<String> keep) {
        if (dir == null) {
            return;
        }
        Set<String> names = new java.util.HashSet<>();
        keep.forEach(hex -> names.add(BLOBS + hex));
        retain(BLOBS, names);
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            LOG.debug("cannot read cache file {}: {}", p, e.toString());
            return null;
        }
    }

    /** Writes {@code content} to {@code p} whole or not at all (a temporary file moved into place); failures are only logged. */
    static void writeFile(Path p, byte[] content) {
        try {
            Files.createDirectories(p.getParent());
            Path tmp = p.resolveSibling(".tmp-" + UUID.randomUUID());
            Files.write(tmp, content);
            try {
                Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.debug("cannot write cache file {}: {}", p, e.toString());
        }
    }
}
