package io.backupkit.mysql.internal;

import io.backupkit.EngineException;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Finds the client tools (mariadb-binlog, mariadb) and says how to install them when they are missing. */
public final class Tools {
    private Tools() {
    }

    /**
     * The first of {@code names} found in {@code directory} (when given) or on the PATH.
     *
     * @throws EngineException naming the tool, where it was looked for and the package to install
     */
    public static Path locate(List<String> names, Path directory) {
        List<Path> dirs = new ArrayList<>();
        if (directory != null) {
            dirs.add(directory);
        } else {
            String path = System.getenv("PATH");
            if (path != null) {
                for (String d : path.split(File.pathSeparator)) {
                    if (!d.isEmpty()) {
                        dirs.add(Path.of(d));
                    }
                }
            }
        }
        for (String name : names) {
            for (Path d : dirs) {
                Path p = d.resolve(name);
                if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                    return p;
                }
            }
        }
        String tool = names.get(0);
        throw new EngineException(tool + " not found " + (directory != null ? "in " + directory : "on the PATH")
                + (names.size() > 1 ? " (nor " + String.join(", ", names.subList(1, names.size())) + ")" : "")
                + "; install the client tools (Debian/Ubuntu: apt-get install " + (tool.startsWith("mysql") ? "mysql-client" : "mariadb-client")
                + "; RHEL: dnf install " + (tool.startsWith("mysql") ? "mysql" : "mariadb") + ") or point toolDirectory at the directory holding "
                + tool);
    }
}
