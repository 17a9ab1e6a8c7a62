package io.backupkit.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.stream.Stream;

/** Hands files to the PostgreSQL server's OS user, so its archive_command can use them (tests run as root). */
final class ServerFiles {
    private ServerFiles() {
    }

    static void giveTo(String user, Path... paths) {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        try {
            UserPrincipal owner = paths[0].getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
            for (Path p : paths) {
                try (Stream<Path> s = Files.walk(p)) {
                    for (Path x : s.toList()) {
                        Files.setOwner(x, owner);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
