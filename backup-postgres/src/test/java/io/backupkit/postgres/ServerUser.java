package io.backupkit.postgres;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Makes files usable by the server's OS user ({@code postgres} when tests run as root), so
 * archive_command and restore_command — which the server runs as that user — can start a JVM with
 * this test's classes and write the repository.
 */
final class ServerUser {
    static final String NAME = "postgres";

    private ServerUser() {
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Copies this JVM's class path (jars and class directories) into {@code dir}; returns the new class path. */
    static String copyClasspath(Path dir) {
        List<String> entries = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            int i = 0;
            for (Path src : realClasspath()) {
                if (!Files.exists(src)) {
                    continue;
                }
                Path dst = dir.resolve(i++ + "-" + src.getFileName());
                if (Files.isDirectory(src)) {
                    copyTree(src, dst);
                } else {
                    Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
                }
                entries.add(dst.toString());
            }
            openUp(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The class path, with surefire/failsafe's manifest-only booter jar expanded to what its manifest lists. */
    static List<Path> realClasspath() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (p.getFileName() != null && p.getFileName().toString().startsWith("surefirebooter") && Files.isRegularFile(p)) {
                try (java.util.jar.JarFile jar = new java.util.jar.JarFile(p.toFile())) {
                    String cp = jar.getManifest().getMainAttributes().getValue("Class-Path");
                    for (String url : cp.trim().split("\\s+")) {
                        out.add(Path.of(java.net.URI.create(url)));
                    }
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private static void copyTree(Path src, Path dst) throws IOException {
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : s.toList()) {
                Path t = dst.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    /**
     * Lets everyone read (and enter) {@code dir} and everything under it, and lets everyone enter the
     * directories above it that this test created (JUnit's temporary directories: never /tmp itself,
     * never anything beside them).
     */
    static void openUp(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (abs.getNameCount() < 2) {
            throw new IllegalArgumentException("refusing to change permissions under " + abs);
        }
        Files.walkFileTree(abs, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
                return FileVisitResult.CONTINUE;
            }
        });
        for (Path p = abs.getParent(); p != null && p.getNameCount() >= 2; p = p.getParent()) {
            if (p.getFileName().toString().startsWith("junit")) {
                // only the directory itself, nothing inside it
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
    }

    /** Gives {@code path} (recursively) to the server user, so the server's commands can write there. */
    static void own(Path path) {
        if (!isRoot()) {
            return;
        }
        try {
            UserPrincipal user = path.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(NAME);
            try (Stream<Path> s = Files.walk(path)) {
                for (Path p : s.toList()) {
                    Files.setOwner(p, user);
                }
            }
            for (Path p = path.toAbsolutePath().getParent(); p != null && p.getNameCount() >= 2; p = p.getParent()) {
                if (p.getFileName().toString().startsWith("junit")) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
