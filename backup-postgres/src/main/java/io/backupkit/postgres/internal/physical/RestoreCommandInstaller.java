package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.KeyProviders;
import io.backupkit.KeySlotInfo;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.FileTrees;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.security.CodeSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Sets up a {@code restore_command} that works after a plain {@code pg_ctl start}, with nothing in
 * the server's environment: a helper directory beside the data directory, owned by the server's OS
 * user and readable by nobody else, holding
 * <ul>
 *   <li>{@code repository.key}: a new random key file (0600) and a key slot for it in the repository,
 *       so no password is stored anywhere (remove the slot after recovery: {@code backupkit key remove ID});</li>
 *   <li>{@code repository.location} and {@code system-id};</li>
 *   <li>{@code lib/}: copies of the jars the fetch needs (backupkit, its dependencies, the storage's),
 *       so it neither depends on where the restoring application's jars are (which the server's user
 *       may not be able to read, and which a redeploy moves) nor on the CLI jar;</li>
 *   <li>{@code wal/}: WAL staged by the restore, handed over with a rename, no JVM started (a second request
 *       for the same file, which only a restart of recovery makes, is fetched from the archive);</li>
 *   <li>for a local repository, "not found" for a timeline history file the archive lacks, answered by
 *       looking for the object's file, no JVM started (PostgreSQL asks twice per recovery);</li>
 *   <li>{@code restore_command}: the shell script the setting names, and {@code README}.</li>
 * </ul>
 */
public final class RestoreCommandInstaller {
    private static final Logger LOG = LoggerFactory.getLogger(RestoreCommandInstaller.class);
    public static final String LOCATION_FILE = "repository.location";
    public static final String KEY_FILE = "repository.key";
    public static final String SYSTEM_ID_FILE = "system-id";
    public static final String SCRIPT = "restore_command";
    public static final String SPOOL = "wal";
    public static final String INCLUDED_LIST = "in-pg_wal.list";

    /** Classes whose jars the fetch needs (with the storage's own, see {@link #classpath}). */
    private static final List<String> ANCHORS = List.of("io.backupkit.Repository", "io.backupkit.postgres.WalArchive",
            "com.fasterxml.jackson.databind.ObjectMapper", "com.fasterxml.jackson.core.JsonFactory",
            "com.fasterxml.jackson.annotation.JsonProperty", "com.fasterxml.jackson.datatype.jsr310.JavaTimeModule",
            "com.github.luben.zstd.Zstd", "net.jpountz.lz4.LZ4Factory",
            "org.bouncycastle.crypto.generators.HKDFBytesGenerator", "org.slf4j.LoggerFactory",
            "org.apache.commons.compress.compressors.CompressorStreamFactory", "org.tukaani.xz.XZ",
            "org.apache.commons.io.IOUtils", "org.apache.commons.codec.binary.Hex", "org.apache.commons.lang3.StringUtils",
            "org.slf4j.simple.SimpleLogger");

    private final Path dir;
    private final String osUser;
    private final UserPrincipal owner;
    private String keySlotId;

    public RestoreCommandInstaller(Path dir, String osUser, UserPrincipal owner) {
        this.dir = dir.toAbsolutePath().normalize();
        this.osUser = osUser;
        this.owner = owner;
    }

    public Path directory() {
        return dir;
    }

    public Path spool() {
        return dir.resolve(SPOOL);
    }

    /** The key slot added for this restore, or null (unencrypted repository). */
    public String keySlotId() {
        return keySlotId;
    }

    /** The restore_command setting that runs the script. */
    public String setting() {
        return shellQuote(dir.resolve(SCRIPT).toString()) + " %f %p";
    }

    /** Refuses an existing, non-empty helper directory (an earlier restore's, still in use perhaps). */
    public void requireFree() {
        if (Files.exists(dir)) {
            try (var s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new ConfigurationException("the restore_command directory " + dir + " already exists and is not empty "
                            + "(left by an earlier restore?): remove it, or choose another with restoreCommandDirectory(...)");
                }
            } catch (IOException e) {
                throw new ConfigurationException("cannot read " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    /** Writes everything but the staged WAL; adds the key slot. */
    public void install(Repository repo, long systemId, Path java, List<Path> classpath, String snapshot, Path pgdata,
                        Set<String> inPgWal) throws IOException {
        Files.createDirectories(dir);
        own(dir, 0700);
        Files.createDirectories(spool());
        own(spool(), 0700);
        // native libraries (zstd-jni) unpack into java.io.tmpdir: the server's user must own it
        Files.createDirectories(dir.resolve("tmp"));
        own(dir.resolve("tmp"), 0700);
        Path lib = dir.resolve("lib");
        Files.createDirectories(lib);
        own(lib, 0700);
        int n = 0;
        for (Path p : classpath) {
            Path to = lib.resolve(String.format("%03d-%s", n++, jarName(p)));
            if (Files.isDirectory(p)) {
                jarDirectory(p, to);
            } else {
                Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
            }
            own(to, 0600);
        }
        write(LOCATION_FILE, repo.location() + "\n");
        write(SYSTEM_ID_FILE, Long.toUnsignedString(systemId) + "\n");
        write(INCLUDED_LIST, String.join("\n", inPgWal) + "\n");
        if (repo.encrypted()) {
            Path key = dir.resolve(KEY_FILE);
            KeyProviders.generateKeyFile(key);
            own(key, 0600);
            KeySlotInfo slot = repo.keys().add(KeyProviders.keyFile(key));
            keySlotId = slot.id();
        }
        String removal = "backupkit key remove --repo " + repo.location() + " " + (keySlotId == null ? "" : keySlotId.substring(0, 12));
        String script = """
                #!/bin/sh
                # restore_command of the PostgreSQL data directory %s,
                # written by backupkit at %s when it restored snapshot %s.
                # Reads WAL from %s with the key file beside this script%s.
                # Once the server has finished recovery (promoted), remove it:
                #   %s
                #   rm -r %s
                # and the backupkit block at the end of postgresql.auto.conf.
                dir=%s
                if [ -z "$BACKUPKIT_SELFTEST" ]; then
                    # timeline 1 has no history file, ever (PostgreSQL asks for it when it promotes)
                    if [ "$1" = 00000001.history ]; then exit 1; fi
                    # WAL inside the restored base backup: PostgreSQL reads it from pg_wal when the archive says "not found"
                    if grep -qxF "$1" "$dir/%s" 2>/dev/null; then exit 1; fi
                    # WAL staged by the restore, handed over by a rename (a copy of 16 MiB per segment slowed replay);
                    # a second request for the same file (rare: a restart of recovery) goes to the archive below
                    if [ -f "$dir/wal/$1" ] && mv -f "$dir/wal/$1" "$2"; then exit 0; fi
                %s
                fi
                %s -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \\
                    -Djava.io.tmpdir="$dir/tmp" -cp "$dir/lib/*" %s "$dir" "$1" "$2"
                rc=$?
                if [ $rc -eq 0 ]; then exit 0; fi
                if [ $rc -eq %d ]; then exit 1; fi
                echo "backupkit restore_command: fetching $1 failed (exit code $rc); recovery stops here instead of ending early. Fix the cause and start the server again." >&2
                exit 126
                """.formatted(pgdata, Instant.now(), snapshot, repo.location(),
                keySlotId == null ? "" : " (key slot " + keySlotId.substring(0, 12) + ")",
                keySlotId == null ? "(unencrypted repository: no key slot to remove)" : removal, dir,
                shellQuote(dir.toString()), INCLUDED_LIST, historyProbe(repo, systemId), shellQuote(java.toString()),
                WalFetchMain.class.getName(), WalFetchMain.NOT_FOUND);
        Path s = dir.resolve(SCRIPT);
        Files.writeString(s, script, StandardCharsets.UTF_8);
        own(s, 0700);
        write("README", """
                This directory belongs to the restore of %s (snapshot %s) and serves its restore_command.
                After the server has promoted (recovery finished) it is no longer needed:
                  %s
                  rm -r %s
                and remove the block between "%s" and "%s" from %s/postgresql.auto.conf.
                """.formatted(pgdata, snapshot, keySlotId == null ? "" : removal, dir, RecoveryConfig.BEGIN, RecoveryConfig.END, pgdata));
    }

    /**
     * Shell lines answering "not found" for a timeline history file the repository does not hold, without
     * a JVM, when the repository is a local directory the script can look into. PostgreSQL asks for the
     * history file of the next timeline when recovery starts (recovery_target_timeline=latest) and again
     * when it promotes, to pick a free timeline; each ask started a JVM (~1 s, several under load) for
     * an answer that is nearly always "not found". The object's file name is exact (LocalStorage writes
     * by rename, so a file either is there whole or not at all); a history file that is there, or a
     * directory the script cannot search, goes to the JVM as before. Other storages always go to the JVM.
     */
    static String historyProbe(Repository repo, long systemId) {
        if (!(repo.storage() instanceof LocalStorage local)) {
            return "    # (history files: the repository is not a local directory; every request goes to the JVM)";
        }
        Path walRoot = local.root().toAbsolutePath().normalize().resolve(WalObjectNames.NAMESPACE)
                .resolve(WalObjectNames.sysid(systemId));
        String history = walRoot.resolve("history").toString();
        return """
                    # a timeline history file the local repository does not hold: "not found" without a JVM
                    case "$1" in
                        [0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F].history)
                            h=%s
                            if [ -d %s ] && [ -x %s ] && { [ ! -e "$h" ] || [ -x "$h" ]; } && [ ! -e "$h/$1" ]; then exit 1; fi ;;
                    esac""".formatted(shellQuote(history), shellQuote(walRoot.toString()), shellQuote(walRoot.toString()))
                .indent(4).stripTrailing();
    }

    /**
     * Runs the script as the server's user, bypassing the staged copies: it must start java, load
     * backupkit, open the repository with the key file, and fetch {@code archived} (a WAL file known to
     * be archived, exit 0: this also loads the decompressor) or, when null, answer "not found" for a
     * name that cannot exist (exit 1).
     */
    public void selfTest(String archived) {
        Path dest = dir.resolve("tmp").resolve("selftest");
        String name = archived != null ? archived : "7FFFFFFF.history";
        int expected = archived != null ? 0 : 1;
        List<String> cmd = new ArrayList<>();
        if (osUser != null && "root".equals(System.getProperty("user.name")) && !"root".equals(osUser)) {
            cmd.addAll(List.of("runuser", "-u", osUser, "--"));
        }
        // the script's JVM path, not its staged copies
        cmd.addAll(List.of("env", "BACKUPKIT_SELFTEST=1", "/bin/sh", dir.resolve(SCRIPT).toString(), name, dest.toString()));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new EngineException("the generated restore_command did not answer within 5 minutes");
            }
            if (p.exitValue() != expected) {
                throw new EngineException("the generated restore_command does not work" + (osUser == null ? "" : " as " + osUser)
                        + " (fetching " + name + ": exit code " + p.exitValue() + ", expected " + expected + "): " + out.strip() + ". Give restoreCommandClasspath(...)/javaExecutable(...) "
                        + "readable by that user, or your own restoreCommand(...)");
            }
            Files.deleteIfExists(dest);
        } catch (IOException e) {
            throw new EngineException("cannot run the generated restore_command: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while testing the restore_command", e);
        }
    }

    /** Removes the key slot and the directory (after a failed restore). */
    public void undo(Repository repo) {
        if (keySlotId != null) {
            try {
                repo.keys().remove(keySlotId);
            } catch (RuntimeException e) {
                LOG.warn("could not remove key slot {} added for the restore_command: {}", keySlotId, e.getMessage());
            }
        }
        FileTrees.deleteQuietly(dir);
    }

    private void write(String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        own(p, 0600);
    }

    public void own(Path p, int mode) throws IOException {
        Files.setPosixFilePermissions(p, TarExtractor.permissions(mode));
        if (owner != null) {
            Files.setOwner(p, owner);
        }
    }

    static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** This JVM's java launcher. */
    public static Path currentJava() {
        return ProcessHandle.current().info().command().map(Path::of)
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java"));
    }

    /**
     * The jars and class directories the fetch needs: those holding backupkit, its dependencies and the
     * repository's storage. For a storage outside backup-core, every entry of this JVM's class path is
     * taken (its dependencies cannot be told apart). Fails, saying what to do, when code comes from
     * somewhere that is no plain file (a nested jar of a fat-jar launcher).
     */
    public static List<Path> classpath(Repository repo) {
        Set<Path> out = new LinkedHashSet<>();
        List<String> anchors = new ArrayList<>(ANCHORS);
        anchors.add(repo.storage().getClass().getName());
        for (String name : anchors) {
            try {
                Class<?> c = Class.forName(name, false, RestoreCommandInstaller.class.getClassLoader());
                out.add(codeSource(c));
            } catch (ClassNotFoundException e) {
                // an optional dependency this deployment does not have: not needed then
            }
        }
        if (!(repo.storage() instanceof LocalStorage)) {
            for (String e : expandedClassPath()) {
                Path p = Path.of(e);
                if (Files.exists(p)) {
                    out.add(p.toAbsolutePath().normalize());
                }
            }
        }
        return List.copyOf(out);
    }

    private static Path codeSource(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        URL url = cs == null ? null : cs.getLocation();
        if (url == null || !"file".equals(url.getProtocol())) {
            throw new ConfigurationException("cannot tell which file holds " + c.getName() + " (" + url + "): the generated "
                    + "restore_command needs plain jar files; give restoreCommandClasspath(...) or your own restoreCommand(...)");
        }
        try {
            return Path.of(url.toURI()).toAbsolutePath().normalize();
        } catch (URISyntaxException e) {
            throw new ConfigurationException("unreadable code location " + url, e);
        }
    }

    /** java.class.path with the Class-Path of manifest-only jars (as test runners use) followed. */
    private static List<String> expandedClassPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            if (e.isEmpty()) {
                continue;
            }
            out.add(e);
            if (e.endsWith(".jar")) {
                try (JarFile jar = new JarFile(e)) {
                    Manifest m = jar.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
                    if (cp != null) {
                        for (String ref : cp.trim().split("\\s+")) {
                            try {
                                out.add(Path.of(new java.net.URI(ref).isAbsolute() ? new java.net.URI(ref)
                                        : Path.of(e).toAbsolutePath().getParent().toUri().resolve(ref)).toString());
                            } catch (URISyntaxException | IllegalArgumentException ignored) {
                                // not a file reference
                            }
                        }
                    }
                } catch (IOException ignored) {
                    // not a readable jar
                }
            }
        }
        return out;
    }

    private static String jarName(Path p) {
        String n = p.getFileName().toString();
        return Files.isDirectory(p) ? "classes-" + Integer.toHexString(p.toString().hashCode()) + ".jar" : n;
    }

    private static void jarDirectory(Path src, Path jar) throws IOException {
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os)) {
            Files.walkFileTree(src, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = src.relativize(file).toString().replace(File.separatorChar, '/');
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(file, out);
                    out.closeEntry();
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    if (!d.equals(src)) {
                        out.putNextEntry(new JarEntry(src.relativize(d).toString().replace(File.separatorChar, '/') + "/"));
                        out.closeEntry();
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        }
    }
}
