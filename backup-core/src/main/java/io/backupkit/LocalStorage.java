package io.backupkit;

import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.channels.FileLock;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.FileVisitResult;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Storage in a local directory. Writes are atomic and durable: every directory on the way is
 * created and fsynced into its parent, then a temporary file in the target directory is written and
 * fsynced, linked to the final name (the link fails if the name exists, so an existing object is never
 * replaced), and the directory is fsynced. On file systems without hard links (vfat, exFAT) the link
 * becomes a rename guarded by a lock, so an existing object is still never replaced. A crash leaves at
 * most a {@code .tmp-*} file, which listings ignore.
 *
 * <pre>{@code
 * Storage storage = LocalStorage.of(Path.of("/var/backups/shop"));
 * }</pre>
 */
public final class LocalStorage implements Storage {
    private static final String TEMP_PREFIX = ".tmp-";
    /** Bytes handed to one {@code write}: bounds the temporary direct buffer the JDK keeps per thread. */
    static final int WRITE_SLICE = 256 * 1024;
    /**
     * Bytes asked of one {@code read} of an object: the same bound for reads. A restore reads ranges of up
     * to 4 MiB into heap arrays, and the JDK reads each call through a temporary direct buffer of the size
     * asked and keeps it for the thread (measured: 16-19 MB of a local restore's RSS with 4 fetching threads).
     */
    static final int READ_SLICE = 256 * 1024;
    private static final Map<Path, Object> RENAME_MONITORS = new ConcurrentHashMap<>();
    private final Path root;
    private final FileOps ops;
    /** Directories this process created or found and fsynced into their parents. */
    private final Set<Path> durableDirs = ConcurrentHashMap.newKeySet();
    /** Set once a link attempt says the file system has no hard links. */
    private volatile boolean linksUnsupported;

    /** The file-system calls whose effect tests must observe or fail (durability, missing hard links). */
    interface FileOps {
        void link(Path link, Path existing) throws IOException;

        void fsyncDirectory(Path dir);
    }

    private static final FileOps REAL = new FileOps() {
        @Override
        public void link(Path link, Path existing) throws IOException {
            Files.createLink(link, existing);
        }

        @Override
        public void fsyncDirectory(Path dir) {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            } catch (IOException ignored) {
                // some file systems cannot fsync directories; the rename is still atomic
            }
        }
    };

    private LocalStorage(Path root, FileOps ops) {
        this.root = root.toAbsolutePath().normalize();
        this.ops = ops;
    }

    /** For tests: storage whose links and directory fsyncs go through {@code ops}. */
    static LocalStorage withFileOps(Path root, FileOps ops) {
        return new LocalStorage(root, ops);
    }

    /** Storage rooted at {@code root}; the directory is created on first write. */
    public static LocalStorage of(Path root) {
        return new LocalStorage(root, REAL);
    }

    public Path root() {
        return root;
    }

    @Override
    public String location() {
        return root.toUri().toString();
    }

    private Path resolve(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.contains("//")) {
            throw new ConfigurationException("invalid object name '" + name + "'");
        }
        for (String part : name.split("/")) {
            if (part.equals("..") || part.equals(".") || part.startsWith(TEMP_PREFIX)) {
                throw new ConfigurationException("invalid object name '" + name + "'");
            }
        }
        return root.resolve(name);
    }

    /** True: a put writes the payload on the calling thread and syncs it before it returns, keeping nothing. */
    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return true;
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        Path target = resolve(name);
        if (Files.exists(target)) {
            return false;
        }
        Path dir = target.getParent();
        Path temp = null;
        try {
            ensureDurableDirectory(dir);
            temp = dir.resolve(TEMP_PREFIX + UUID.randomUUID());
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                if (payload instanceof Payload.ArrayPayload a) {
                    // in slices: the JDK copies a heap buffer into a temporary direct buffer of the size written
                    // and keeps it for the thread, so writing a 16 MiB pack at once pins 16 MiB of native memory
                    // per uploading thread for the rest of the run (measured: 33 MB of a backup's RSS)
                    int end = a.offset() + a.arrayLength();
                    for (int at = a.offset(); at < end; ) {
                        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(a.array(), at, Math.min(WRITE_SLICE, end - at));
                        while (buf.hasRemaining()) {
                            ch.write(buf);
                        }
                        at = buf.position();
                    }
                } else {
                    try (InputStream in = payload.open()) {
                        OutputStream out = Channels.newOutputStream(ch);
                        long copied = in.transferTo(out);
                        out.flush();
                        if (copied != payload.length()) {
                            throw new IOException("payload gave " + copied + " bytes, expected " + payload.length());
                        }
                    }
                }
                ch.force(true);
            }
            boolean written = linksUnsupported ? moveWithoutReplacing(temp, target) : linkOrFallBack(temp, target);
            if (!written) {
                Files.deleteIfExists(temp);
                temp = null;
                return false;
            }
            temp = null;
            ops.fsyncDirectory(dir);
            return true;
        } catch (AccessDeniedException e) {
            throw new StorageException("cannot write " + name + " in " + location() + ": permission denied", false, e);
        } catch (IOException e) {
            throw new StorageException("cannot write " + name + " in " + location() + ": " + e, true, e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temp file is ignored by listings
                }
            }
        }
    }

    /** Links {@code temp} to {@code target}; falls back to a guarded rename only when the file system has no hard links. */
    private boolean linkOrFallBack(Path temp, Path target) throws IOException {
        try {
            // a hard link fails when the name exists: no check-then-act race between writers
            ops.link(target, temp);
            Files.delete(temp);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException e) {
            linksUnsupported = true;
        } catch (FileSystemException e) {
            if (!linksUnsupported(e)) {
                // disk full, I/O error, ...: renaming instead would hide the failure or replace an object
                throw e;
            }
            linksUnsupported = true;
        }
        return moveWithoutReplacing(temp, target);
    }

    /** link(2) on vfat/exFAT says EPERM; some file systems say EOPNOTSUPP or ENOSYS. */
    private static boolean linksUnsupported(FileSystemException e) {
        if (e instanceof AccessDeniedException || e instanceof NoSuchFileException || e instanceof FileAlreadyExistsException) {
            return false;
        }
        String reason = e.getReason() == null ? "" : e.getReason().toLowerCase(java.util.Locale.ROOT);
        return reason.contains("operation not permitted") || reason.contains("not supported")
                || reason.contains("function not implemented");
    }

    /**
     * Renames {@code temp} to {@code target} unless the name exists. A rename replaces an existing name, so
     * every writer of this directory tree serializes the check and the rename: threads of this JVM on a
     * monitor, other processes on an advisory lock of a file in the root that listings ignore.
     */
    private boolean moveWithoutReplacing(Path temp, Path target) throws IOException {
        synchronized (RENAME_MONITORS.computeIfAbsent(root, r -> new Object())) {
            try (FileChannel lockFile = FileChannel.open(root.resolve(TEMP_PREFIX + "rename-lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    return false;
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                return true;
            }
        }
    }

    /**
     * Creates {@code dir} and its missing ancestors, fsyncing each into its parent, so that after a power
     * loss a new pack cannot vanish while the index and manifest written after it survive. Every directory
     * is synced once per process, also when it already existed: a writer killed between creating it and
     * syncing its parent leaves a directory entry that only the page cache knows.
     */
    private void ensureDurableDirectory(Path d) throws IOException {
        if (durableDirs.contains(d)) {
            return;
        }
        Path parent = d.getParent();
        if (d.equals(root)) {
            if (!Files.isDirectory(root)) {
                createAncestors(root);
            }
        } else {
            ensureDurableDirectory(parent);
            try {
                Files.createDirectory(d);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(d)) {
                    throw e;
                }
            }
        }
        if (parent != null) {
            ops.fsyncDirectory(parent);
        }
        durableDirs.add(d);
    }

    /** The root's own missing ancestors (a new repository in a new directory tree). */
    private void createAncestors(Path d) throws IOException {
        if (Files.isDirectory(d)) {
            return;
        }
        Path parent = d.getParent();
        if (parent != null) {
            createAncestors(parent);
        }
        try {
            Files.createDirectory(d);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(d)) {
                throw e;
            }
            return;
        }
        if (parent != null && !d.equals(root)) {
            ops.fsyncDirectory(parent);
        }
    }

    @Override
    public InputStream get(String name) {
        Path p = resolve(name);
        try {
            return new BoundedInputStream(Files.newInputStream(p), Long.MAX_VALUE);
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(location(), name);
        } catch (IOException e) {
            throw new StorageException("cannot read " + name + " in " + location() + ": " + e, true, e);
        }
    }

    @Override
    public InputStream get(String name, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range " + offset + "+" + length);
        }
        Path p = resolve(name);
        try {
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
            long size = ch.size();
            if (offset + length > size) {
                ch.close();
                throw new StorageException("range " + offset + "+" + length + " beyond end of " + name + " (" + size + " bytes) in " + location(), false);
            }
            ch.position(offset);
            return new BoundedInputStream(Channels.newInputStream(ch), length);
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(location(), name);
        } catch (IOException e) {
            throw new StorageException("cannot read " + name + " in " + location() + ": " + e, true, e);
        }
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        Path p = resolve(name);
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (!a.isRegularFile()) {
                return Optional.empty();
            }
            return Optional.of(new ObjectInfo(name, a.size(), a.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageException("cannot stat " + name + " in " + location() + ": " + e, true, e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        List<ObjectInfo> result = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return result;
        }
        // walk only the directory the prefix lies in
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        if (!Files.isDirectory(start)) {
            return result;
        }
        try {
            // walkFileTree, not Files.walk: an entry renamed or deleted between reading the directory and
            // reading its attributes (a temporary file becoming its object, a lock released) is skipped, where
            // Files.walk would abort the whole listing
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path p, BasicFileAttributes a) {
                    if (p.getFileName().toString().startsWith(TEMP_PREFIX) || !a.isRegularFile()) {
                        return FileVisitResult.CONTINUE;
                    }
                    String name = root.relativize(p).toString().replace('\\', '/');
                    if (name.startsWith(prefix)) {
                        result.add(new ObjectInfo(name, a.size(), a.lastModifiedTime().toInstant()));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE; // listing is not a snapshot: concurrent deletes are fine
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException startDeletedMeanwhile) {
            return result;
        } catch (IOException | UncheckedIOException e) {
            throw new StorageException("cannot list " + prefix + " in " + location() + ": " + e, true, e);
        }
        return result;
    }

    @Override
    public void delete(String name) {
        try {
            Files.deleteIfExists(resolve(name));
        } catch (IOException e) {
            throw new StorageException("cannot delete " + name + " in " + location() + ": " + e, true, e);
        }
    }

    @Override
    public void close() {
        // nothing held open
    }

    @Override
    public String toString() {
        return "LocalStorage[" + root + "]";
    }

    /** At most {@code remaining} bytes of {@code in}, asked of it in pieces of at most {@link #READ_SLICE}. */
    private static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        BoundedInputStream(InputStream in, long remaining) {
            this.in = in;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(Math.min(len, READ_SLICE), remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
