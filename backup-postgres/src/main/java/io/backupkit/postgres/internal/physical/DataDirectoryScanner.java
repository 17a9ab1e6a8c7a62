package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Lists what a base backup copies from a data directory and its tablespaces, leaving out what
 * PostgreSQL's own base backup leaves out (documented in "Making a Base Backup Using the Low Level
 * API"): the contents of pg_wal, pg_replslot, pg_dynshmem, pg_notify, pg_serial, pg_snapshots,
 * pg_stat_tmp and pg_subtrans; postmaster.pid/opts, an old backup_label or tablespace_map,
 * pg_internal.init, temporary files (pgsql_tmp*) and the non-init forks of unlogged relations.
 */
public final class DataDirectoryScanner {
    private static final Set<String> EXCLUDE_CONTENTS = Set.of("pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial",
            "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
    private static final Set<String> EXCLUDE_FILES = Set.of("postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label",
            "tablespace_map", "backup_manifest", "postmaster.pid", "postmaster.opts", "backup_label.old", "tablespace_map.old");

    /**
     * One thing to archive.
     *
     * @param area     "base" for the data directory, the tablespace oid otherwise
     * @param name     path inside the archive
     * @param path     where it is (null for directories made up, such as pg_wal/archive_status)
     * @param type     {@link TarEntry#FILE}, {@link TarEntry#DIRECTORY} or {@link TarEntry#SYMLINK}
     * @param size     size when listed (the copy takes what is there when it reads, padded or cut to this)
     * @param mode     permission bits
     * @param mtime    seconds since the epoch
     * @param link     symlink target
     */
    public record Item(String area, String name, Path path, char type, long size, int mode, long mtime, String link) {
    }

    private DataDirectoryScanner() {
    }

    /** Everything in the data directory ("base" area) and in each tablespace's version directory. */
    public static List<Item> scan(Path dataDirectory, List<ClusterInfo.Tablespace> tablespaces, String tablespaceVersionDirectory) {
        List<Item> items = new ArrayList<>();
        try {
            walk(dataDirectory, "", "base", items, true);
            for (ClusterInfo.Tablespace t : tablespaces) {
                Path link = dataDirectory.resolve("pg_tblspc").resolve(Long.toString(t.oid()));
                Path location = Files.isSymbolicLink(link) ? link.toRealPath() : Path.of(t.location());
                Path version = location.resolve(tablespaceVersionDirectory);
                String area = Long.toString(t.oid());
                if (Files.isDirectory(version)) {
                    items.add(dir(area, tablespaceVersionDirectory, version));
                    walk(version, tablespaceVersionDirectory + "/", area, items, false);
                }
            }
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("the data directory " + dataDirectory + " has no " + e.getFile()
                    + "; is it the data directory of the server being backed up?", e);
        } catch (IOException e) {
            throw new ConfigurationException("cannot read the data directory " + dataDirectory + ": " + e.getMessage(), e);
        }
        return items;
    }

    private static void walk(Path dir, String prefix, String area, List<Item> items, boolean top) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        } catch (NoSuchFileException e) {
            // a directory dropped while we scan (a database or tablespace being dropped): nothing to copy
            return;
        }
        children.sort(null);
        Set<String> unlogged = unloggedRelations(children);
        for (Path p : children) {
            String name = p.getFileName().toString();
            String rel = prefix + name;
            if (name.startsWith("pgsql_tmp") || name.equals("pg_internal.init") || (top && EXCLUDE_FILES.contains(name))) {
                continue;
            }
            if (isUnloggedFork(name, unlogged)) {
                continue;
            }
            PosixFileAttributes a;
            try {
                a = Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                continue;
            }
            if (a.isSymbolicLink()) {
                if (top && name.equals("pg_wal")) {
                    // a pg_wal moved elsewhere is archived as a directory, as pg_basebackup does
                    items.add(dir(area, rel, p));
                    items.add(new Item(area, rel + "/archive_status", null, TarEntry.DIRECTORY, 0, 0700, a.lastModifiedTime().toMillis() / 1000, null));
                    continue;
                }
                items.add(new Item(area, rel, p, TarEntry.SYMLINK, 0, 0777, a.lastModifiedTime().toMillis() / 1000,
                        Files.readSymbolicLink(p).toString()));
            } else if (a.isDirectory()) {
                items.add(new Item(area, rel, p, TarEntry.DIRECTORY, 0, mode(a.permissions()), a.lastModifiedTime().toMillis() / 1000, null));
                if (top && EXCLUDE_CONTENTS.contains(name)) {
                    if (name.equals("pg_wal")) {
                        items.add(new Item(area, rel + "/archive_status", null, TarEntry.DIRECTORY, 0, 0700,
                                a.lastModifiedTime().toMillis() / 1000, null));
                    }
                    continue;
                }
                walk(p, rel + "/", area, items, false);
            } else if (a.isRegularFile()) {
                items.add(new Item(area, rel, p, TarEntry.FILE, a.size(), mode(a.permissions()), a.lastModifiedTime().toMillis() / 1000, null));
            }
            // sockets, pipes and devices have no place in a data directory: skipped
        }
    }

    private static Item dir(String area, String rel, Path p) throws IOException {
        return new Item(area, rel, p, TarEntry.DIRECTORY, 0, 0700, Files.getLastModifiedTime(p).toMillis() / 1000, null);
    }

    /** Relation file nodes that have an init fork ("NNN_init"): unlogged, so only the init fork is copied. */
    private static Set<String> unloggedRelations(List<Path> children) {
        Set<String> out = new HashSet<>();
        for (Path p : children) {
            String n = p.getFileName().toString();
            if (n.endsWith("_init") && n.substring(0, n.length() - 5).chars().allMatch(Character::isDigit)) {
                out.add(n.substring(0, n.length() - 5));
            }
        }
        return out;
    }

    private static boolean isUnloggedFork(String name, Set<String> unlogged) {
        if (unlogged.isEmpty() || name.endsWith("_init")) {
            return false;
        }
        int end = 0;
        while (end < name.length() && Character.isDigit(name.charAt(end))) {
            end++;
        }
        return end > 0 && unlogged.contains(name.substring(0, end));
    }

    static int mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                case OTHERS_EXECUTE -> 01;
            };
        }
        return m;
    }

    /** Names in sorted order, for messages. */
    static Set<String> names(List<Item> items) {
        Set<String> s = new TreeSet<>();
        items.forEach(i -> s.add(i.name()));
        return s;
    }
}
