package io.backupkit.postgres.testing;

import io.backupkit.postgres.internal.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL cluster started from local binaries (initdb + pg_ctl) in a temporary
 * directory, listening on a free port of 127.0.0.1 with password authentication. Durability is
 * switched off (fsync, synchronous_commit, full_page_writes) because tests never survive a crash
 * anyway. When the JVM runs as root the server runs as the {@code postgres} OS user through
 * {@code runuser}, since PostgreSQL refuses to run as root.
 *
 * <p>Start one per test class, not per test: initdb costs about a second.
 *
 * <pre>{@code
 * try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("max_connections", "50").start()) {
 *     pg.createDatabase("shop");
 *     DataSource ds = ...; // pg.jdbcUrl("shop"), pg.user(), pg.password()
 * }
 * }</pre>
 */
public final class EphemeralPostgres implements PostgresServer {
    private static final String DEFAULT_BIN_ENV = "BACKUPKIT_PG_BIN";

    private final Path binDirectory;
    private final Path baseDirectory;
    private final Path dataDirectory;
    /** A data directory the fixture did not create (a restored copy): started with this fixture's socket directory. */
    private final boolean adopted;
    private final int startTimeoutSeconds;
    private final Path logFile;
    private final int port;
    private final String user;
    private final String password;
    private final int majorVersion;
    private final List<String> runAs;
    private final Thread shutdownHook;
    private volatile boolean closed;

    private EphemeralPostgres(Builder b) {
        this.binDirectory = b.binDirectory != null ? b.binDirectory : findBinDirectory();
        for (String tool : List.of("initdb", "pg_ctl", "postgres")) {
            if (!Files.isExecutable(binDirectory.resolve(tool))) {
                throw new IllegalStateException("PostgreSQL server binaries not found: " + binDirectory.resolve(tool)
                        + " is missing. Install the PostgreSQL server package (Debian/Ubuntu: apt-get install "
                        + "postgresql-15; macOS: brew install postgresql@15) or point EphemeralPostgres.builder()"
                        + ".binDirectory(...) or the environment variable " + DEFAULT_BIN_ENV + " at its bin directory.");
            }
        }
        this.user = b.user;
        this.password = b.password != null ? b.password : randomPassword();
        this.runAs = isRoot() ? List.of("runuser", "-u", b.osUser, "--") : List.of();
        try {
            this.baseDirectory = Files.createTempDirectory(b.parentDirectory, "backupkit-pg-");
            if (!runAs.isEmpty()) {
                UserPrincipalLookupService lookup = baseDirectory.getFileSystem().getUserPrincipalLookupService();
                Files.setOwner(baseDirectory, lookup.lookupPrincipalByName(b.osUser));
            }
            Files.setPosixFilePermissions(baseDirectory, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the ephemeral PostgreSQL cluster", e);
        }
        this.adopted = b.existingDataDirectory != null;
        this.startTimeoutSeconds = b.startTimeoutSeconds;
        this.dataDirectory = adopted ? b.existingDataDirectory.toAbsolutePath() : baseDirectory.resolve("data");
        this.logFile = baseDirectory.resolve("postgres.log");
        boolean started = false;
        try {
            if (!adopted) {
                initdb(b);
            }
            this.majorVersion = Integer.parseInt(Files.readString(dataDirectory.resolve("PG_VERSION")).trim());
            this.port = startWithFreePort();
            started = true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (!started) {
                FileTrees.deleteQuietly(baseDirectory);
            }
        }
        this.shutdownHook = new Thread(this::stopQuietly, "backupkit-ephemeral-postgres-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a cluster with the defaults. */
    public static EphemeralPostgres start() {
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
    public int majorVersion() {
        return majorVersion;
    }

    @Override
    public Optional<Path> binDirectory() {
        return Optional.of(binDirectory);
    }

    /** The cluster's data directory (owned by the server's OS user). */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** A scratch directory the server's OS user can write (tool output files go here). */
    public Path workDirectory() {
        return baseDirectory;
    }

    /**
     * Creates a tablespace in a new directory under this fixture's directory (owned by the server's OS
     * user, removed with it) and returns the directory.
     */
    public Path createTablespace(String name) {
        Path dir = baseDirectory.resolve("tablespaces").resolve(name);
        try {
            Files.createDirectories(dir);
            if (!runAs.isEmpty()) {
                Files.setOwner(dir.getParent(), Files.getOwner(baseDirectory));
                Files.setOwner(dir, Files.getOwner(baseDirectory));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        execute("postgres", "CREATE TABLESPACE " + PostgresServer.quoteIdent(name) + " LOCATION '" + dir.toString().replace("'", "''") + "'");
        return dir;
    }

    /** The server log, handy in failure messages. */
    public String logTail(int maxChars) {
        try {
            String log = Files.readString(logFile, StandardCharsets.UTF_8);
            return log.length() <= maxChars ? log : log.substring(log.length() - maxChars);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Runs psql against {@code database} with the given arguments and returns its standard output.
     * Fails with psql's standard error when it exits non-zero.
     */
    public String psql(String database, String... args) {
        List<String> cmd = new ArrayList<>(List.of(binDirectory.resolve("psql").toString(), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                "-h", host(), "-p", Integer.toString(port), "-U", user, "-d", database));
        cmd.addAll(List.of(args));
        return run(cmd, Map.of("PGPASSWORD", password), false);
    }

    /** Runs a client tool of this cluster's bin directory (pgbench, pg_dump, …) with connection settings in the environment. */
    public String runTool(String tool, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binDirectory.resolve(tool).toString());
        cmd.addAll(List.of(args));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGHOST", host());
        env.put("PGPORT", Integer.toString(port));
        env.put("PGUSER", user);
        env.put("PGPASSWORD", password);
        return run(cmd, env, false);
    }

    /** Stops the server at once (immediate shutdown), as a crash would; {@link #close()} still cleans up. */
    public void kill() {
        run(List.of(binDirectory.resolve("pg_ctl").toString(), "-D", dataDirectory.toString(), "-m", "immediate", "-w", "stop"),
                Map.of(), true);
    }

    /** Starts the server again after {@link #kill()}, {@link #killHard()} or {@link #stopServer()} on the same port. */
    public void restart() {
        pgCtlStart(port);
    }

    /** Stops the server cleanly (fast shutdown) and keeps its data directory; {@link #restart()} starts it again. */
    public void stopServer() {
        run(List.of(binDirectory.resolve("pg_ctl").toString(), "-D", dataDirectory.toString(), "-m", "fast", "-w", "-t", "60", "stop"),
                Map.of(), false);
    }

    /**
     * The postmaster's process id, from {@code postmaster.pid}.
     *
     * @throws IllegalStateException when the server is not running
     */
    public long postmasterPid() {
        try {
            String first = Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim();
            return Long.parseLong(first);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the server is not running (no readable postmaster.pid in " + dataDirectory + ")", e);
        }
    }

    /**
     * Kills the postmaster and every process it started with SIGKILL, as a machine crash or the
     * OOM killer would, and waits until they are gone; {@link #restart()} then runs crash recovery.
     */
    public void killHard() {
        ProcessHandle postmaster = ProcessHandle.of(postmasterPid())
                .orElseThrow(() -> new IllegalStateException("no postmaster process for " + dataDirectory));
        List<ProcessHandle> children = postmaster.descendants().toList();
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((postmaster.isAlive() || children.stream().anyMatch(ProcessHandle::isAlive)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while killing the server", e);
            }
        }
    }

    /**
     * Appends settings to {@code postgresql.auto.conf} (read at the next start), e.g. recovery settings.
     * Values are written as given (quote strings: "'on'").
     */
    public void appendAutoConf(Map<String, String> settings) {
        StringBuilder conf = new StringBuilder("\n");
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
        try {
            Files.writeString(dataDirectory.resolve("postgresql.auto.conf"), conf.toString(), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a file into the data directory (e.g. {@code recovery.signal}), owned by the server's OS user. */
    public void writeDataFile(String relativePath, String content) {
        Path p = dataDirectory.resolve(relativePath);
        try {
            Files.writeString(p, content, StandardCharsets.UTF_8);
            if (!runAs.isEmpty()) {
                Files.setOwner(p, Files.getOwner(dataDirectory));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        return "EphemeralPostgres[" + host() + ":" + port + ", PostgreSQL " + majorVersion + ", " + dataDirectory + "]";
    }

    private synchronized void stopQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            run(List.of(binDirectory.resolve("pg_ctl").toString(), "-D", dataDirectory.toString(), "-m", "fast", "-w", "-t", "30", "stop"),
                    Map.of(), true);
        } catch (RuntimeException e) {
            // best effort; the directory is removed below either way
        }
        FileTrees.deleteQuietly(baseDirectory);
    }

    private void initdb(Builder b) throws IOException {
        Path pwFile = baseDirectory.resolve("pwfile");
        Files.writeString(pwFile, password + "\n");
        if (!runAs.isEmpty()) {
            Files.setOwner(pwFile, pwFile.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(b.osUser));
        }
        List<String> cmd = new ArrayList<>(List.of(binDirectory.resolve("initdb").toString(), "-D", dataDirectory.toString(),
                "-U", user, "--pwfile=" + pwFile, "-A", "scram-sha-256", "-E", b.encoding, "--locale=" + b.locale, "--no-sync"));
        run(cmd, Map.of(), false);
        Files.delete(pwFile);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("listen_addresses", "'127.0.0.1'");
        settings.put("unix_socket_directories", "'" + baseDirectory + "'");
        settings.put("fsync", "off");
        settings.put("synchronous_commit", "off");
        settings.put("full_page_writes", "off");
        settings.put("max_wal_size", "'2GB'");
        settings.put("logging_collector", "off");
        b.settings.forEach(settings::put);
        StringBuilder conf = new StringBuilder("\n# backupkit EphemeralPostgres\n");
        settings.forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
        // the data directory belongs to the server user; root can still append
        Files.writeString(dataDirectory.resolve("postgresql.conf"), conf.toString(), StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
    }

    private int startWithFreePort() {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            int candidate = freePort();
            try {
                pgCtlStart(candidate);
                return candidate;
            } catch (IllegalStateException e) {
                // another process may have taken the port between probing and binding: try another
                last = e;
            }
        }
        throw last;
    }

    private void pgCtlStart(int p) {
        List<String> cmd = List.of(binDirectory.resolve("pg_ctl").toString(), "-D", dataDirectory.toString(), "-l", logFile.toString(),
                "-o", adopted ? "-p " + p + " -c unix_socket_directories='" + baseDirectory + "'" : "-p " + p,
                "-w", "-t", Integer.toString(startTimeoutSeconds), "start");
        try {
            run(cmd, Map.of(), false);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "\nserver log:\n" + logTail(3000), e);
        }
    }

    private String run(List<String> command, Map<String, String> env, boolean ignoreFailure) {
        List<String> full = new ArrayList<>(runAs);
        // client tools run as anyone, but keep one path: server tools must not run as root
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(false);
        pb.environment().putAll(env);
        pb.environment().put("LC_ALL", "C");
        pb.directory(baseDirectory.toFile());
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            var err = new java.io.ByteArrayOutputStream();
            Thread errPump = new Thread(() -> {
                try {
                    p.getErrorStream().transferTo(err);
                } catch (IOException ignored) {
                    // process went away
                }
            });
            errPump.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish within 10 minutes");
            }
            errPump.join();
            if (p.exitValue() != 0 && !ignoreFailure) {
                throw new IllegalStateException(Paths.get(command.get(0)).getFileName() + " failed with exit code " + p.exitValue()
                        + ": " + err.toString(StandardCharsets.UTF_8).strip());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command.get(0), e);
        }
    }

    static Path findBinDirectory() {
        String env = System.getenv(DEFAULT_BIN_ENV);
        if (env != null && !env.isBlank()) {
            return Paths.get(env);
        }
        Path debian = Paths.get("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> best = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(v -> parseIntOr(v.getFileName().toString(), 0)));
                if (best.isPresent()) {
                    return best.get().resolve("bin");
                }
            } catch (IOException ignored) {
                // fall through to PATH
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Paths.get(dir, "initdb"))) {
                    return Paths.get(dir);
                }
            }
        }
        return Paths.get("/usr/lib/postgresql/15/bin");
    }

    private static int parseIntOr(String s, int fallback) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return fallback;
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

    /** Configures an {@link EphemeralPostgres}. */
    public static final class Builder {
        private Path binDirectory;
        private Path parentDirectory = Paths.get(System.getProperty("java.io.tmpdir"));
        private String user = "postgres";
        private String password;
        private String osUser = "postgres";
        private String encoding = "UTF8";
        private String locale = "C.UTF-8";
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Path existingDataDirectory;
        private int startTimeoutSeconds = 60;

        private Builder() {
        }

        /** Directory holding initdb, pg_ctl and postgres (default: newest /usr/lib/postgresql/N/bin, $BACKUPKIT_PG_BIN, or PATH). */
        public Builder binDirectory(Path dir) {
            this.binDirectory = dir;
            return this;
        }

        /** Where the temporary cluster directory is made (default: java.io.tmpdir). */
        public Builder parentDirectory(Path dir) {
            this.parentDirectory = dir;
            return this;
        }

        /** Superuser name (default postgres). */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Superuser password (default: random). */
        public Builder password(String password) {
            this.password = password;
            return this;
        }

        /** OS user the server runs as when the JVM is root (default postgres). */
        public Builder osUser(String osUser) {
            this.osUser = osUser;
            return this;
        }

        public Builder encoding(String encoding) {
            this.encoding = encoding;
            return this;
        }

        public Builder locale(String locale) {
            this.locale = locale;
            return this;
        }

        /** A postgresql.conf setting; the value is written as given (quote strings: "'on'"). */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /**
         * Starts an existing data directory instead of a new cluster (a restored copy, owned by the OS
         * user): no initdb, a free port, this fixture's socket directory; {@link #close()} stops it but
         * leaves the directory. The user and password must be the cluster's.
         */
        public Builder existingDataDirectory(Path dir) {
            this.existingDataDirectory = dir;
            return this;
        }

        /** How long pg_ctl waits for the server to accept connections (default 60 s; recovery of much WAL takes longer). */
        public Builder startTimeout(java.time.Duration timeout) {
            this.startTimeoutSeconds = (int) Math.max(1, timeout.toSeconds());
            return this;
        }

        public EphemeralPostgres start() {
            return new EphemeralPostgres(this);
        }
    }
}
