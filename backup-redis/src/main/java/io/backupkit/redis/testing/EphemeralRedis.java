package io.backupkit.redis.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A throw-away Redis server started from the local {@code redis-server} binary in a temporary
 * directory, listening on a free port of 127.0.0.1, without persistence (no RDB saves, no AOF). When
 * the JVM runs as root the server runs as the {@code redis} OS user through {@code runuser}. Optionally
 * protected by a password for the default user, or by an ACL user with a password (the default user
 * is then switched off).
 *
 * <pre>{@code
 * try (EphemeralRedis redis = EphemeralRedis.builder().aclUser("backup", "s3cret").start()) {
 *     String url = redis.url();            // redis://backup@127.0.0.1:PORT
 *     char[] pw = redis.password().orElseThrow();
 * }
 * }</pre>
 */
public final class EphemeralRedis implements AutoCloseable {
    private static final String BIN_ENV = "BACKUPKIT_REDIS_SERVER";

    private final Path directory;
    private final int port;
    private final String user;
    private final String password;
    private final String version;
    private final Process process;
    private final Thread shutdownHook;
    private volatile boolean closed;

    private EphemeralRedis(Builder b) {
        String binary = b.binary != null ? b.binary : Optional.ofNullable(System.getenv(BIN_ENV)).orElse(findServer());
        this.user = b.user;
        this.password = b.password;
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            this.directory = Files.createTempDirectory("backupkit-redis-");
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
            if (root) {
                UserPrincipal owner = directory.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(b.osUser);
                Files.setOwner(directory, owner);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a directory for the ephemeral Redis server", e);
        }
        if (b.rdbFile != null) {
            try {
                Path dump = directory.resolve("dump.rdb");
                Files.copy(b.rdbFile, dump);
                if (root) {
                    Files.setOwner(dump, dump.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(b.osUser));
                }
            } catch (IOException e) {
                deleteRecursively(directory);
                throw new UncheckedIOException("cannot copy " + b.rdbFile + " into the server's directory", e);
            }
        }
        Process started = null;
        int chosen = -1;
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 5 && started == null; attempt++) {
            int candidate = freePort();
            try {
                started = launch(binary, root, b, candidate);
                chosen = candidate;
            } catch (IllegalStateException e) {
                last = e; // the port was taken between probing and binding: try another
            }
        }
        if (started == null) {
            deleteRecursively(directory);
            throw last;
        }
        this.process = started;
        this.port = chosen;
        this.version = infoField("redis_version");
        this.shutdownHook = new Thread(this::stopQuietly, "backupkit-ephemeral-redis-stop");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts a server with the defaults (no password). */
    public static EphemeralRedis start() {
        return builder().start();
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    /** The ACL user, if one was configured. */
    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    /** The password (of the ACL user, or of the default user), if any. */
    public Optional<char[]> password() {
        return Optional.ofNullable(password).map(String::toCharArray);
    }

    /** {@code redis://[user@]127.0.0.1:port} (never with the password). */
    public String url() {
        return "redis://" + (user == null ? "" : user + "@") + host() + ":" + port;
    }

    /** The server's version ("7.0.15"). */
    public String version() {
        return version;
    }

    /** The server's working directory (owned by the server's OS user). */
    public Path directory() {
        return directory;
    }

    /**
     * Runs one command with the configured credentials and returns the reply as text (bulk and simple
     * strings, integers), for test setup: {@code redis.command("CONFIG", "SET", "maxmemory", "0")}.
     */
    public String command(String... args) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host(), port), 10_000);
            s.setSoTimeout(60_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            if (password != null) {
                write(out, user == null ? new String[] {"AUTH", password} : new String[] {"AUTH", user, password});
                String r = readReply(in);
                if (r.startsWith("-")) {
                    throw new IllegalStateException("AUTH failed: " + r);
                }
            }
            write(out, args);
            String r = readReply(in);
            if (r.startsWith("-")) {
                throw new IllegalStateException(String.join(" ", args[0]) + " failed: " + r);
            }
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException("Redis at " + host() + ":" + port + " did not answer " + args[0], e);
        }
    }

    /** The tail of the server log, for failure messages. */
    public String logTail(int maxChars) {
        try {
            String log = Files.readString(directory.resolve("redis.log"), StandardCharsets.UTF_8);
            return log.length() <= maxChars ? log : log.substring(log.length() - maxChars);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Stops the server at once (SIGKILL), as a crash would. */
    public void kill() {
        process.destroyForcibly();
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
        return "EphemeralRedis[" + host() + ":" + port + ", Redis " + version + "]";
    }

    private synchronized void stopQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // faster than SIGTERM, which the server handles at its next cron tick and runuser relays slowly
            command("SHUTDOWN", "NOSAVE", "NOW");
        } catch (RuntimeException e) {
            // the server closes the connection as it exits; a dead server needs no shutdown
        }
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroy();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deleteRecursively(directory);
    }

    private Process launch(String binary, boolean root, Builder b, int candidate) {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("port", Integer.toString(candidate));
        conf.put("bind", "127.0.0.1");
        conf.put("dir", directory.toString());
        conf.put("logfile", directory.resolve("redis.log").toString());
        conf.put("daemonize", "no");
        conf.put("save", "\"\"");
        conf.put("dbfilename", "dump.rdb");
        conf.put("appendonly", "no");
        conf.put("protected-mode", "no");
        // tests should not wait the default 5 s for more replicas before a diskless transfer
        conf.put("repl-diskless-sync-delay", "0");
        if (password != null && user == null) {
            conf.put("requirepass", password);
        }
        conf.putAll(b.settings);
        StringBuilder text = new StringBuilder("# backupkit EphemeralRedis\n");
        conf.forEach((k, v) -> text.append(k).append(' ').append(v).append('\n'));
        if (user != null) {
            text.append("user default off\n");
            text.append("user ").append(user).append(" on >").append(password).append(" ~* &* +@all\n");
        }
        Path confFile = directory.resolve("redis-" + candidate + ".conf");
        try {
            Files.writeString(confFile, text.toString());
            Files.setPosixFilePermissions(confFile, PosixFilePermissions.fromString("rw-------"));
            if (root) {
                Files.setOwner(confFile, confFile.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(b.osUser));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Redis configuration", e);
        }
        List<String> cmd = new ArrayList<>();
        if (root) {
            cmd.addAll(List.of("runuser", "-u", b.osUser, "--"));
        }
        cmd.add(binary);
        cmd.add(confFile.toString());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(directory.resolve("stdout-" + candidate + ".log").toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage()
                    + ". Install Redis (Debian/Ubuntu: apt-get install redis-server) or set " + BIN_ENV, e);
        }
        long deadline = System.nanoTime() + b.startTimeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("redis-server exited with " + p.exitValue() + " on port " + candidate + ":\n" + logTail(2000)
                        + readQuietly(directory.resolve("stdout-" + candidate + ".log")));
            }
            if (logTail(100_000).contains("Ready to accept connections")) {
                return p;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while starting redis-server");
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("redis-server did not start within " + b.startTimeout.toSeconds() + " s:\n" + logTail(2000));
    }

    private String infoField(String field) {
        for (String l : command("INFO", "server").split("\r?\n")) {
            if (l.startsWith(field + ":")) {
                return l.substring(field.length() + 1).trim();
            }
        }
        return "?";
    }

    private static void write(OutputStream out, String... args) throws IOException {
        StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        out.write(b.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String readReply(InputStream in) throws IOException {
        String line = readLine(in);
        if (line.startsWith("$")) {
            int n = Integer.parseInt(line.substring(1));
            if (n < 0) {
                return "";
            }
            byte[] b = in.readNBytes(n + 2);
            return new String(b, 0, n, StandardCharsets.UTF_8);
        }
        if (line.startsWith("+") || line.startsWith(":")) {
            return line.substring(1);
        }
        if (line.startsWith("*")) {
            int n = Integer.parseInt(line.substring(1));
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                s.append(i == 0 ? "" : "\n").append(readReply(in));
            }
            return s.toString();
        }
        return line;
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                s.append((char) c);
            }
        }
        return s.toString();
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    private static String findServer() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(dir, "redis-server");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        for (String p : List.of("/usr/bin/redis-server", "/usr/local/bin/redis-server")) {
            if (Files.isExecutable(Path.of(p))) {
                return p;
            }
        }
        throw new IllegalStateException("redis-server not found. Install Redis (Debian/Ubuntu: apt-get install redis-server; "
                + "macOS: brew install redis) or set " + BIN_ENV + " to the binary");
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort
                }
            });
        } catch (IOException e) {
            // already gone
        }
    }

    /** Builds and starts an {@link EphemeralRedis}. */
    public static final class Builder {
        private String binary;
        private String user;
        private String password;
        private String osUser = "redis";
        private Duration startTimeout = Duration.ofSeconds(60);
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Path rdbFile;

        private Builder() {
        }

        /** Start on a copy of this RDB file (loaded at start, as a server restarted on its data directory). */
        public Builder rdbFile(Path rdb) {
            this.rdbFile = rdb;
            return this;
        }

        /** The redis-server binary (default: $BACKUPKIT_REDIS_SERVER, then the PATH). */
        public Builder binary(String path) {
            this.binary = path;
            return this;
        }

        /** Protect the default user with a password. */
        public Builder password(String password) {
            this.user = null;
            this.password = password;
            return this;
        }

        /** Protect the default user with a random password. */
        public Builder randomPassword() {
            return password(random());
        }

        /** An ACL user with all permissions and this password; the default user is switched off. */
        public Builder aclUser(String user, String password) {
            this.user = user;
            this.password = password;
            return this;
        }

        /** A setting of redis.conf ("databases", "16"; "repl-diskless-sync", "no"). */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** The OS user the server runs as when the JVM runs as root (default {@code redis}). */
        public Builder osUser(String osUser) {
            this.osUser = osUser;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        public EphemeralRedis start() {
            return new EphemeralRedis(this);
        }

        private static String random() {
            byte[] b = new byte[16];
            new SecureRandom().nextBytes(b);
            return HexFormat.of().formatHex(b);
        }
    }
}
