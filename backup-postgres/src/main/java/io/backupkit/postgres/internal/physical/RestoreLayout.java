package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Where each stream of a physical snapshot goes: the data directory, or a tablespace's location
 * (the original one, or where a mapping relocates it). Checks that every destination is empty.
 */
public final class RestoreLayout {
    private static final Pattern DATA_DIR_STREAM = Pattern.compile("(base|pg_wal|backup_label)(\\.\\d+)?\\.tar");
    private static final Pattern TABLESPACE_STREAM = Pattern.compile("(\\d+)(\\.\\d+)?\\.tar");

    private final Path pgdata;
    private final Map<Long, Path> tablespaceDirs = new LinkedHashMap<>();
    private final Map<Long, ClusterInfo.Tablespace> tablespaces = new LinkedHashMap<>();

    /**
     * @param mappings keys: an original location, a tablespace name or oid; values: the new location
     */
    public RestoreLayout(Path pgdata, List<ClusterInfo.Tablespace> snapshotTablespaces, Map<String, Path> mappings) {
        this.pgdata = pgdata.toAbsolutePath().normalize();
        Set<String> used = new HashSet<>();
        for (ClusterInfo.Tablespace t : snapshotTablespaces) {
            Path to = null;
            for (String key : List.of(t.location(), t.name(), Long.toString(t.oid()))) {
                if (mappings.containsKey(key)) {
                    to = mappings.get(key);
                    used.add(key);
                    break;
                }
            }
            Path dir = (to != null ? to : Path.of(t.location())).toAbsolutePath().normalize();
            if (!dir.isAbsolute()) {
                throw new ConfigurationException("tablespace " + t.name() + " must be restored into an absolute path, not " + dir);
            }
            if (dir.startsWith(this.pgdata)) {
                throw new ConfigurationException("tablespace " + t.name() + " cannot be restored inside the data directory (" + dir + ")");
            }
            tablespaceDirs.put(t.oid(), dir);
            tablespaces.put(t.oid(), t);
        }
        for (String key : mappings.keySet()) {
            if (!used.contains(key)) {
                throw new ConfigurationException("tablespace mapping " + key + "=" + mappings.get(key) + " matches no tablespace of the "
                        + "snapshot; it has " + (snapshotTablespaces.isEmpty() ? "none" : snapshotTablespaces.stream()
                        .map(t -> t.name() + " (oid " + t.oid() + ", " + t.location() + ")").collect(Collectors.joining(", "))));
            }
        }
    }

    public Path pgdata() {
        return pgdata;
    }

    public Map<Long, Path> tablespaceDirs() {
        return tablespaceDirs;
    }

    public ClusterInfo.Tablespace tablespace(long oid) {
        return tablespaces.get(oid);
    }

    /** The directory a stream unpacks into; null for the file list, which is not unpacked. */
    public Path destination(String stream) {
        if (stream.equals(FileList.STREAM)) {
            return null;
        }
        if (DATA_DIR_STREAM.matcher(stream).matches()) {
            return pgdata;
        }
        Matcher m = TABLESPACE_STREAM.matcher(stream);
        if (m.matches()) {
            Path dir = tablespaceDirs.get(Long.parseLong(m.group(1)));
            if (dir == null) {
                throw new ConfigurationException("stream " + stream + " belongs to tablespace " + m.group(1)
                        + ", which the snapshot's metadata does not list");
            }
            return dir;
        }
        throw new ConfigurationException("stream " + stream + " is not part of a physical base backup this version can restore");
    }

    /** The link target for a symlink member ("pg_tblspc/16385"), or null to keep the recorded one. */
    public String linkTarget(String member) {
        if (member.startsWith("pg_tblspc/")) {
            try {
                Path dir = tablespaceDirs.get(Long.parseLong(member.substring("pg_tblspc/".length())));
                return dir == null ? null : dir.toString();
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** Refuses, touching nothing, when the data directory or a tablespace location has anything in it. */
    public void requireEmpty() {
        requireEmpty(pgdata, "the data directory " + pgdata, "restore only into an empty or new directory");
        for (Map.Entry<Long, Path> e : tablespaceDirs.entrySet()) {
            ClusterInfo.Tablespace t = tablespaces.get(e.getKey());
            requireEmpty(e.getValue(), "tablespace " + t.name() + " would be restored into " + e.getValue() + ", which",
                    "map it to an empty directory (CLI: --tablespace-mapping " + t.location() + "=NEW_DIR)");
        }
    }

    private static void requireEmpty(Path dir, String what, String fix) {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new ConfigurationException(what + " is not a directory; " + fix);
        }
        List<String> some = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (some.size() < 3) {
                    some.add(p.getFileName().toString());
                } else {
                    some.add("…");
                    break;
                }
            }
        } catch (IOException e) {
            throw new ConfigurationException("cannot read " + dir + ": " + e.getMessage(), e);
        }
        if (!some.isEmpty()) {
            throw new ConfigurationException(what + " is not empty (it holds " + String.join(", ", some) + "); " + fix
                    + ". Nothing was written.");
        }
    }
}
