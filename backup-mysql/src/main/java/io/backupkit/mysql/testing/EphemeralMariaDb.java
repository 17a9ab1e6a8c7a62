package io.backupkit.mysql.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away MariaDB server started from local binaries ({@code mariadb-install-db} and
 * {@code mariadbd}) in a temporary directory: its own data directory, socket and temporary
 * directory, a free port of 127.0.0.1, a superuser {@code root} with a random password (also
 * reachable over TCP), the binary log on in ROW format with a server id (so point-in-time recovery
 * can be tested), and durability relaxed because tests never survive a crash anyway. When the JVM
 * runs as root the server runs as the {@code mysql} OS user through {@code runuser}.
 *
 * <p>Start one per test class, not per test: installing the system tables takes a few seconds.
 *
 * <pre>{@code
 * try (EphemeralMariaDb db = EphemeralMariaDb.builder().setting("max_connections", "50").start()) {
 *     db.createDatabase("shop");
 *     BackupSource source = MySqlSource.builder().url(db.uri("shop")).user(db.user())
 *             .password(db.password().toCharArray()).build();
 * }
 * }</pre>
 */
public final class EphemeralMariaDb implements MySqlServer {
    private static final String BIN_ENV = "BACKUPKIT_MARIADB_BIN";

    private final Path serverBinary;
    private final Path installDb;
    private final Path baseDirectory;
    private final Path dataDirectory;
    private final Path socket;
    private final Path pidFile;
    private final Path errorLog;
    private final List<String> runAs;
    private final String user = "root";
    private final String password;
    private final int serverId;
    private final boolean binlog;
    private final Map<String, String> settings;
    private final Duration startTimeout;
    private final Thread shutdownHook;
    private volatile int port;
    private volatile String version;
    private volatile boolean closed;

    private EphemeralMariaDb(Builder b) {
        this.serverBinary = b.serverBinary != null ? b.serverBinary : find("mariadbd", List.of("/usr/sbin", "/usr/bin", "/usr/local/sbin",
                "/usr/local/bin", "/usr/libexec"));
        this.installDb = find("mariadb-install-db", List.of(serverBinary.getParent().toString(), "/usr/bin", "/usr/local/bin",
                serverBinary.getParent().resolveSibling("bin").toString(), serverBinary.getParent().resolveSibling("scripts").toString()));
        this.password = b.password != null ? b.password : randomPassword();
        this.serverId = b.serverId;
        this.binlog = b.binlog;
        this.settings = new LinkedHashMap<>(b.settings);
        this.startTimeout = b.startTimeout;
        this.runAs = isRoot() ? List.of("runuser", "-u", b.osUser, "--") : List.of();
        try {
            this.baseDirectory = Files.createTempDirectory(b.parentDirectory, "backupkit-mariadb-");
            Files.setPosixFilePermissions(baseDirectory, PosixFilePermissions.fromString("rwx------"));
            this.dataDirectory = baseDirectory.resolve("data");
            Files.createDirectories(dataDirectory);
            Files.createDirectories(baseDirectory.resolve("tmp"));
            if (!runAs.isEmpty()) {
                UserPrincipal owner = baseDirectory.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(b.osUser);
                for (Path p : List.of(baseDirectory, dataDirectory, baseDirectory.resolve("tmp"))) {
                    Files.setOwner(p, owner);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the ephemeral MariaDB server", e);
        }
        this.socket = baseDirectory.resolve("mysqld.sock");
        this.pidFile = baseDirectory.resolve("mysqld.pid");
        this.errorLog = baseDirectory.resolve("error.log");
        boolean started = false;
        try {
            install(b);
            this.port = startWithFreePort(b.versionString);
            started = true;
        } finally {
            if (!started) {
                stopProcess(true);
                deleteRecursively(baseDirectory);
            }
        }
        this.shutdownHook = new Thread(this::stopQuietly, "backupkit-ephemeral-mariadb-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a server with the defaults. */
    public static EphemeralMariaDb start() {
        return builder().start();
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public String version() {
        return version;
    }

    /** The server's {@code server_id}. */
    public int serverId() {
        return serverId;
    }

    /** Whether the binary log is on. */
    public boolean binlogEnabled() {
        return binlog;
    }

    /** The data directory (owned by the server's OS user). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** The server's Unix socket. */
    public Path socket() {
        return socket;
    }

    /** The error log, handy in failure messages. */
    public String logTail(int maxChars) {
        try {
            String log = Files.readString(errorLog, StandardCharsets.UTF_8);
            return log.length() <= maxChars ? log : log.substring(log.length() - maxChars);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the server at once with SIGKILL, as a crash would; {@link #restart()} starts it again, {@link #close()} still cleans up. */
    public void kill() {
        stopProcess(true);
    }

    /** Stops the server cleanly (SIGTERM), keeping its data; {@link #restart()} starts it again. */
    public void stop() {
        stopProcess(false);
    }

    /** Starts the server again after {@link #kill()} or {@link #stop()}, on the same port. */
    public void restart() {
        if (!startOn(port, null)) {
            throw new IllegalStateException("MariaDB did not start again on port " + port + ":\n" + logTail(3000));
        }
    }

    /** Whether the server process runs. */
    public boolean isRunning() {
        return serverPid().flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        stopQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // JVM already shutting down: the hook runs anyway
        }
    }

    @Override
    public String toString() {
        return "EphemeralMariaDb[" + host() + ":" + port + ", " + version + ", " + dataDirectory + "]";
    }

    private synchronized void stopQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopProcess(false);
        } catch (RuntimeException e) {
            // best effort; the directory is removed below either way
        }
        deleteRecursively(baseDirectory);
    }

    private void install(Builder b) {
        List<String> cmd = new ArrayList<>(List.of(installDb.toString(), "--no-defaults", "--datadir=" + dataDirectory,
                "--tmpdir=" + baseDirectory.resolve("tmp"), "--auth-root-authentication-method=normal", "--skip-test-db",
                "--skip-name-resolve", "--innodb-log-file-size=16M"));
        if (b.serverBinary != null) {
            cmd.add("--basedir=" + serverBinary.getParent().getParent());
        }
        run(cmd, Duration.ofMinutes(3));
    }

    private int startWithFreePort(String versionString) {
        for (int attempt = 0; attempt < 5; attempt++) {
            int candidate = freePort();
            if (startOn(candidate, versionString)) {
                return candidate;
            }
            // the port was taken between probing and binding, or the server failed: the log says which
            if (!logTail(4000).contains("Bind on TCP/IP port") && !logTail(4000).contains("Address already in use")) {
                break;
            }
        }
        throw new IllegalStateException("MariaDB did not start:\n" + logTail(3000));
    }

    /** Starts mariadbd on {@code p}; waits until it accepts the superuser over TCP. */
    private boolean startOn(int p, String versionString) {
        try {
            Path initFile = baseDirectory.resolve("init.sql");
            // runs at every start, as the server's bootstrap user: the superuser reachable over TCP with its password
            String pw = password.replace("\\", "\\\\").replace("'", "\\'");
            Files.writeString(initFile, "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '" + pw + "';\n"
                    + "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;\n"
                    + "ALTER USER 'root'@'localhost' IDENTIFIED BY '" + pw + "';\n"
                    // mariadb-install-db also makes password-less root@127.0.0.1 and root@::1, which TCP logins would match first
                    + "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';\n", StandardCharsets.UTF_8);
            Path cnf = baseDirectory.resolve("my.cnf");
            Map<String, String> s = new LinkedHashMap<>();
            s.put("datadir", dataDirectory.toString());
            s.put("tmpdir", baseDirectory.resolve("tmp").toString());
            s.put("socket", socket.toString());
            s.put("pid-file", pidFile.toString());
            s.put("log-error", errorLog.toString());
            s.put("port", Integer.toString(p));
            s.put("bind-address", "127.0.0.1");
            s.put("skip-name-resolve", null);
            s.put("init-file", initFile.toString());
            s.put("server-id", Integer.toString(serverId));
            if (binlog) {
                s.put("log-bin", dataDirectory.resolve("binlog").toString());
                s.put("binlog-format", "ROW");
            }
            s.put("character-set-server", "utf8mb4");
            s.put("collation-server", "utf8mb4_unicode_ci");
            s.put("innodb-buffer-pool-size", "128M");
            s.put("innodb-log-file-size", "16M");
            s.put("innodb-flush-log-at-trx-commit", "2");
            s.put("innodb-doublewrite", "0");
            s.put("sync-binlog", "0");
            s.put("performance-schema", "OFF");
            s.put("max-connections", "200");
            s.put("local-infile", "1");
            s.putAll(settings);
            if (versionString != null) {
                s.put("version", versionString);
            }
            StringBuilder conf = new StringBuilder("# backupkit EphemeralMariaDb\n[mariadbd]\n");
            s.forEach((k, v) -> conf.append(k).append(v == null ? "" : " = " + v).append('\n'));
            Files.writeString(cnf, conf.toString(), StandardCharsets.UTF_8);
            if (!runAs.isEmpty()) {
                UserPrincipal owner = Files.getOwner(dataDirectory);
                Files.setOwner(initFile, owner);
                Files.setPosixFilePermissions(initFile, PosixFilePermissions.fromString("rw-------"));
            }
            Files.deleteIfExists(errorLog);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(runAs);
        cmd.addAll(List.of(serverBinary.toString(), "--defaults-file=" + baseDirectory.resolve("my.cnf")));
        Process process;
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .directory(baseDirectory.toFile()).start();
            process.getOutputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + serverBinary, e);
        }
        long deadline = System.nanoTime() + startTimeout.toNanos();
        this.port = p;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                return false;
            }
            // the init file runs before this line; connecting earlier only fills the logs with refused logins
            if (!logTail(100_000).contains("ready for connections")) {
                sleep(100);
                continue;
            }
            try (Connection c = connect(null)) {
                version = c.getMetaData().getDatabaseProductVersion();
                try (var st = c.createStatement(); var rs = st.executeQuery("SELECT VERSION()")) {
                    rs.next();
                    version = rs.getString(1);
                }
                return true;
            } catch (SQLException e) {
                sleep(100);
            }
        }
        process.destroyForcibly();
        stopProcess(true);
        throw new IllegalStateException("MariaDB did not accept connections within " + startTimeout.toSeconds() + " s:\n" + logTail(3000));
    }

    private Optional<Long> serverPid() {
        try {
            if (!Files.exists(pidFile)) {
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(Files.readString(pidFile).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Signals the server (TERM, or KILL when {@code hard}) and waits until it is gone. */
    private void stopProcess(boolean hard) {
        Optional<ProcessHandle> h = serverPid().flatMap(ProcessHandle::of);
        if (h.isEmpty()) {
            return;
        }
        ProcessHandle ph = h.get();
        if (hard) {
            ph.destroyForcibly();
        } else {
            ph.destroy();
        }
        try {
            ph.onExit().get(hard ? 30 : 120, TimeUnit.SECONDS);
        } catch (Exception e) {
            ph.destroyForcibly();
        }
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException ignored) {
            // the server removes it itself on a clean stop
        }
    }

    private String run(List<String> command, Duration timeout) {
        List<String> full = new ArrayList<>(runAs);
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C");
        pb.directory(baseDirectory.toFile());
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread pump = new Thread(() -> {
                try {
                    p.getInputStream().transferTo(out);
                } catch (IOException ignored) {
                    // process went away
                }
            });
            pump.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish within " + timeout.toSeconds() + " s");
            }
            pump.join();
            String text = out.toString(StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException(Paths.get(command.get(0)).getFileName() + " failed with exit code " + p.exitValue()
                        + ": " + (text.length() > 3000 ? text.substring(text.length() - 3000) : text).strip());
            }
            return text;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.get(0), e);
        }
    }

    static Path find(String tool, List<String> directories) {
        String env = System.getenv(BIN_ENV);
        List<String> dirs = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            dirs.add(env);
        }
        dirs.addAll(directories);
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(java.io.File.pathSeparator)));
        }
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Paths.get(d, tool))) {
                return Paths.get(d, tool);
            }
        }
        throw new IllegalStateException("MariaDB server binaries not found: no executable " + tool + " in " + dirs
                + ". Install the MariaDB server (Debian/Ubuntu: apt-get install mariadb-server mariadb-client; macOS: brew install mariadb) "
                + "or point the environment variable " + BIN_ENV + " at the directory holding " + tool + ".");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for MariaDB to start", e);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on 127.0.0.1", e);
        }
    }

    private static String randomPassword() {
        byte[] b = new byte[12];
        new SecureRandom().nextBytes(b);
        return "pw" + HexFormat.of().formatHex(b);
    }

    private static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // leftovers in the temp directory are harmless
        }
    }

    /** Configures an {@link EphemeralMariaDb}. */
    public static final class Builder {
        private Path serverBinary;
        private Path parentDirectory = Paths.get(System.getProperty("java.io.tmpdir"));
        private String password;
        private String osUser = "mysql";
        private int serverId = 1;
        private boolean binlog = true;
        private String versionString;
        private Duration startTimeout = Duration.ofSeconds(120);
        private final Map<String, String> settings = new LinkedHashMap<>();

        private Builder() {
        }

        /** The mariadbd binary (default: /usr/sbin/mariadbd, $BACKUPKIT_MARIADB_BIN, or PATH). */
        public Builder serverBinary(Path mariadbd) {
            this.serverBinary = mariadbd;
            return this;
        }

        /** Where the temporary server directory is made (default: java.io.tmpdir). */
        public Builder parentDirectory(Path dir) {
            this.parentDirectory = dir;
            return this;
        }

        /** Superuser (root) password (default: random). */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** OS user the server runs as when the JVM is root (default mysql). */
        public Builder osUser(String osUser) {
            this.osUser = osUser;
            return this;
        }

        /** {@code server_id} (default 1). */
        public Builder serverId(int serverId) {
            this.serverId = serverId;
            return this;
        }

        /** Binary log on (default) or off. */
        public Builder binlog(boolean on) {
            this.binlog = on;
            return this;
        }

        /** The version string the server reports (MariaDB's {@code --version=…}), to test version checks. */
        public Builder reportedVersion(String version) {
            this.versionString = version;
            return this;
        }

        /** How long to wait for the server to accept connections (default 120 s: the machine may be loaded). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** A server option for the [mariadbd] section ("max_connections", "200"); a null value writes the bare name. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        public EphemeralMariaDb start() {
            return new EphemeralMariaDb(this);
        }
    }
}
