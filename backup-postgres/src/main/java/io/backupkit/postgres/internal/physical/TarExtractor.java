package io.backupkit.postgres.internal.physical;

import io.backupkit.EngineException;
import io.backupkit.IntegrityException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipal;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;

/**
 * Unpacks one tar stream of a physical snapshot under a root directory: files with their modes and
 * times, directories (0700), symbolic links (a link can be redirected, so tablespace links point to
 * where the tablespace is restored). Never overwrites (the target directories start empty), refuses
 * names that leave the root, and gives everything to the server's OS user when one is set.
 */
public final class TarExtractor {
    private static final int BUFFER = 256 * 1024;
    private final Path root;
    private final Function<String, String> linkTarget;
    private final UserPrincipal owner;
    private final GroupPrincipal group;
    private long files;
    private long bytes;

    /**
     * @param linkTarget for a symlink's archive name, the target to create instead, or null to keep the recorded one;
     *                   returning "" leaves the link out
     */
    public TarExtractor(Path root, Function<String, String> linkTarget, UserPrincipal owner, GroupPrincipal group) {
        this.root = root.toAbsolutePath().normalize();
        this.linkTarget = linkTarget;
        this.owner = owner;
        this.group = group;
    }

    public void extract(InputStream in, String what) {
        TarReader reader = new TarReader(in, what);
        byte[] buf = new byte[BUFFER];
        try {
            TarEntry e;
            while ((e = reader.next()) != null) {
                Path p = resolve(e.name(), what);
                if (e.isDirectory()) {
                    Files.createDirectories(p);
                    own(p, 0700);
                } else if (e.isSymlink()) {
                    String target = linkTarget.apply(e.name());
                    if (target == null) {
                        target = e.linkName();
                    }
                    if (!target.isEmpty()) {
                        parents(p);
                        Files.createSymbolicLink(p, Path.of(target));
                        ownLink(p);
                    }
                } else if (e.isFile()) {
                    parents(p);
                    try (OutputStream out = Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        int n;
                        while ((n = reader.read(buf, 0, buf.length)) >= 0) {
                            out.write(buf, 0, n);
                        }
                    }
                    own(p, e.mode() == 0 ? 0600 : e.mode() & 0777);
                    Files.setLastModifiedTime(p, FileTime.fromMillis(e.mtime() * 1000));
                    files++;
                    bytes += e.size();
                }
                // other entry types (devices, fifos) cannot be part of a data directory: skipped
            }
            // read what follows the end marker, so the stream is read to its end and its checksum checked
            reader.drainTrailer(OutputStream.nullOutputStream());
        } catch (FileAlreadyExistsException e) {
            throw new EngineException(what + " holds " + e.getFile() + " twice, or the directory was not empty", e);
        } catch (IOException e) {
            throw new EngineException("unpacking " + what + " into " + root + " failed: " + e.getMessage(), e);
        }
    }

    private Path resolve(String name, String what) {
        Path p = root.resolve(name).normalize();
        if (name.startsWith("/") || !p.startsWith(root)) {
            throw new IntegrityException(what, "archive member '" + name + "' lies outside the directory it is restored into");
        }
        return p;
    }

    private void parents(Path p) throws IOException {
        Path parent = p.getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            Files.createDirectories(parent);
            // directories made implicitly get the data directory's mode
            for (Path d = parent; d != null && d.startsWith(root) && !d.equals(root); d = d.getParent()) {
                own(d, 0700);
            }
        }
    }

    private void own(Path p, int mode) throws IOException {
        PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
        if (view == null) {
            return;
        }
        view.setPermissions(permissions(mode));
        if (owner != null) {
            view.setOwner(owner);
        }
        if (group != null) {
            view.setGroup(group);
        }
    }

    private void ownLink(Path p) throws IOException {
        if (owner != null) {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (view != null) {
                view.setOwner(owner);
                if (group != null) {
                    view.setGroup(group);
                }
            }
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] all = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < all.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(all[i]);
            }
        }
        return s;
    }

    public long files() {
        return files;
    }

    public long bytes() {
        return bytes;
    }
}
