package io.backupkit.internal.repo;

import io.backupkit.internal.Futures;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.PasswordKeyProvider;
import io.backupkit.spi.KeyProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A password's key derivation started before the repository is even reached: the key slot a password last opened
 * a repository at this location with is kept in the metadata cache directory (it holds no secret: salt, Argon2id
 * parameters and the wrapped master key, as in {@code keys/}), and the next open runs Argon2id over that copy on a
 * thread of its own while the storage client is built and the config and the slot listing are read. Argon2id is
 * CPU work on every core; the client and the requests are mostly one thread and waiting, so side by side they
 * take less than one after the other (docs/performance.md, "keyahead").
 *
 * <p>Nothing is believed from the cache: the copy is used only if its name is the SHA-256 of its bytes (so it is
 * byte for byte the slot of that name) and that name is in the storage's listing of {@code keys/} taken by this
 * open (a slot removed from the repository opens nothing, whatever the cache holds); the master key it yields must
 * then authenticate the config like any other slot's. A copy that fails any of this is ignored and the slots are
 * read and tried as always.
 */
final class KeySlotAhead {
    private static final Logger LOG = LoggerFactory.getLogger(KeySlotAhead.class);
    /** Under the cache directory: one directory per location (SHA-256 of the location string), one slot in it. */
    private static final String DIR = "key-slots";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    private final String slotName;
    private final KeySlotFile file;
    private final CompletableFuture<Optional<byte[]>> master;
    private final AtomicBoolean taken = new AtomicBoolean();

    private KeySlotAhead(String slotName, KeySlotFile file, CompletableFuture<Optional<byte[]>> master) {
        this.slotName = slotName;
        this.file = file;
        this.master = master;
    }

    /**
     * Starts unwrapping the slot cached for {@code location}; null when there is no cache, no intact copy, or the
     * provider is not a password (a key file costs nothing to open, a KMS call is not made on a guess).
     */
    static KeySlotAhead start(Path cacheBase, String location, KeyProvider provider) {
        if (cacheBase == null || location == null || provider == null || !PasswordKeyProvider.TYPE.equals(provider.type())) {
            return null;
        }
        Path dir = directory(cacheBase, location);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, f -> !f.getFileName().toString().startsWith("."))) {
            for (Path p : files) {
                String name = Formats.KEYS + p.getFileName();
                if (Files.size(p) > KeySlotFile.MAX_BYTES) {
                    return null;
                }
                byte[] bytes = Files.readAllBytes(p);
                Formats.checkContentHash(name, bytes);
                KeySlotFile f = KeySlotFile.decode(name, bytes);
                if (!f.type().equals(provider.type())) {
                    return null;
                }
                return new KeySlotAhead(name, f, Futures.onDaemonThread("backupkit-key-ahead", () -> provider.unwrap(f.toSlot(name))));
            }
        } catch (IOException | RuntimeException e) {
            // no copy (the usual first open), or one that is damaged: the slots are read and tried as always
            LOG.debug("no usable cached key slot for this location: {}", e.toString());
        }
        return null;
    }

    /** Whether this is the slot stored as {@code name}; only then may {@link #take()} be called. */
    boolean isFor(String name) {
        return slotName.equals(name);
    }

    KeySlotFile file() {
        return file;
    }

    /** The master key the copy yields (empty: this password does not open it); its failure as the provider threw it. */
    Optional<byte[]> take() {
        taken.set(true);
        return Futures.join(master);
    }

    /**
     * Waits until the work started here has ended, its key wiped if nobody took it: before another slot is unwrapped,
     * so that two Argon2id runs never hold their memory (64 MiB each by default) in one heap at once; and when open()
     * ends, so that none runs on after it. Idempotent.
     */
    void settle() {
        if (!taken.get()) {
            master.handle((m, failure) -> m == null ? Optional.<byte[]>empty() : m).join().ifPresent(k -> Arrays.fill(k, (byte) 0));
        }
    }

    /** Keeps {@code slotBytes} (the slot stored as {@code slotName} that opened the repository) for the next open at {@code location}. */
    static void remember(Path cacheBase, String location, String slotName, byte[] slotBytes) {
        if (cacheBase == null || location == null) {
            return;
        }
        Path dir = directory(cacheBase, location);
        String fileName = slotName.substring(Formats.KEYS.length());
        try {
            // the copy holds no secret, but salt and wrapped key are what an offline guess at the password needs:
            // like the storage's keys/, only its owner may read it (a shared cache directory or a home readable by all)
            makePrivate(dir.getParent());
            makePrivate(dir);
            // called only when the slot was read from storage, so any copy here was missing, damaged or another slot's
            MetadataCache.writeFile(dir.resolve(fileName), slotBytes);
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path p : files) {
                    if (!p.getFileName().toString().equals(fileName)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort, as every cache write: the next open only reads the slot again
            LOG.debug("cannot keep the key slot in the cache: {}", e.toString());
        }
    }

    /** Creates {@code dir} if missing and, where the file system has POSIX permissions, leaves it rwx------. */
    private static void makePrivate(Path dir) throws IOException {
        Files.createDirectories(dir.getParent());
        boolean posix = Files.getFileStore(dir.getParent()).supportsFileAttributeView(PosixFileAttributeView.class);
        try {
            if (posix) {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } else {
                Files.createDirectory(dir);
            }
        } catch (FileAlreadyExistsException exists) {
            // made by an earlier open, or by another process just now
        }
        if (posix) {
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
        }
    }

    /** The directory that holds the copy for {@code location}. */
    static Path directory(Path cacheBase, String location) {
        return cacheBase.resolve(DIR).resolve(Hashes.sha256Hex(location.getBytes(StandardCharsets.UTF_8)));
    }
}
