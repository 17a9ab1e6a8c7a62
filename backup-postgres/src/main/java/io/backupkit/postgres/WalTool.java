package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.wal.WalNames;

import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code archive_command} and {@code restore_command} without the CLI: a small {@code main} on the
 * class path of backup-postgres (no picocli), which the {@code backupkit wal-push} and
 * {@code wal-fetch} commands also run, and which starts the asynchronous pusher and the prefetcher
 * as detached processes.
 *
 * <pre>
 * archive_command = 'java -cp /opt/backupkit.jar io.backupkit.postgres.WalTool push --repo /backups/db --key-file /etc/backupkit.key %p'
 * restore_command = 'java -cp /opt/backupkit.jar io.backupkit.postgres.WalTool fetch --repo /backups/db --key-file /etc/backupkit.key %f %p'
 * </pre>
 *
 * <p>Commands: {@code push [--async] PATH}, {@code fetch NAME DEST}, and the background
 * {@code pusher} and {@code prefetcher}. Repository: {@code --repo LOCATION} (or
 * {@code $BACKUPKIT_REPO}) and {@code --key-file FILE}, {@code --password-file FILE} or
 * {@code $BACKUPKIT_PASSWORD}. Both commands run in the data directory (PostgreSQL's working
 * directory for them), whose {@code global/pg_control} names the cluster.
 *
 * <p>Exit codes of {@code push}: 0 archived (durable), 1 failed (PostgreSQL retries), 2 usage or
 * configuration error (also: a segment of another cluster), 3 integrity (a different file of that
 * name is archived). Of {@code fetch}: 0 found, 1 not archived, and for real errors the general
 * code plus 200 — 201 failed (repository unreachable), 202 usage or configuration, 203 integrity or
 * wrong key — because PostgreSQL treats any exit code up to 125 as "not found", ends recovery and
 * promotes, while a code above 125 makes it stop with an error instead.
 */
public final class WalTool {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int INTEGRITY = 3;
    /** Added to fetch's error codes so PostgreSQL aborts recovery rather than ending it early. */
    public static final int FETCH_ERROR_BASE = 200;
    static final String ENV_REPO = "BACKUPKIT_REPO";
    static final String ENV_PASSWORD = "BACKUPKIT_PASSWORD";

    private WalTool() {
    }

    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(args, System.getenv(), err, Path.of("").toAbsolutePath());
        err.flush();
        System.exit(code);
    }

    /**
     * Runs one command; returns its exit code. {@code workingDirectory} stands for the process's
     * (PostgreSQL runs both commands in the data directory).
     */
    public static int run(String[] args, Map<String, String> env, PrintWriter err, Path workingDirectory) {
        if (args.length == 0) {
            err.println("usage: WalTool push|fetch|pusher|prefetcher [options] ...");
            return USAGE;
        }
        String command = args[0];
        Args a;
        try {
            a = Args.parse(Arrays.copyOfRange(args, 1, args.length));
        } catch (ConfigurationException e) {
            err.println("backupkit wal-" + command + ": " + e.getMessage());
            return command.equals("fetch") ? FETCH_ERROR_BASE + USAGE : USAGE;
        }
        return switch (command) {
            case "push" -> push(a, env, err, workingDirectory);
            case "fetch" -> fetch(a, env, err, workingDirectory);
            case "pusher" -> pusher(a, env, err);
            case "prefetcher" -> prefetcher(a, env, err);
            default -> {
                err.println("unknown command '" + command + "' (push, fetch, pusher, prefetcher)");
                yield USAGE;
            }
        };
    }

    // ---- push ------------------------------------------------------------------------------------

    static int push(Args a, Map<String, String> env, PrintWriter err, Path cwd) {
        try {
            Path file = a.positional(0, "PATH (the WAL file, %p)");
            if (!file.isAbsolute()) {
                file = cwd.resolve(file);
            }
            Path pgdata = a.path("--pgdata", dataDirectoryOf(file, cwd));
            if (a.flag("--async")) {
                return pushAsync(a, env, err, file, pgdata);
            }
            try (Repository repo = openRepository(a, env)) {
                WalArchive.Builder b = WalArchive.builder().repository(repo).allowNewCluster(a.flag("--new-cluster"));
                if (pgdata != null) {
                    b.dataDirectory(pgdata);
                }
                a.systemId().ifPresent(b::systemId);
                b.build().push(file);
                return OK;
            }
        } catch (RuntimeException e) {
            return report("wal-push", e, err, 0);
        }
    }

    /** The data directory a WAL file lies in (…/pg_wal/NAME), else the working directory if it is one. */
    static Path dataDirectoryOf(Path walFile, Path cwd) {
        Path parent = walFile.toAbsolutePath().getParent();
        if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals("pg_wal")
                && Files.exists(parent.getParent().resolve("global").resolve("pg_control"))) {
            return parent.getParent();
        }
        return Files.exists(cwd.resolve("global").resolve("pg_control")) ? cwd : null;
    }

    private static int pushAsync(Args a, Map<String, String> env, PrintWriter err, Path file, Path pgdata) {
        if (pgdata == null) {
            throw new ConfigurationException("--async needs the data directory: run it as archive_command (in the data directory)"
                    + " or give --pgdata");
        }
        Path spool = a.path("--spool", WalArchiver.defaultSpool(pgdata));
        long timeoutMillis = a.intValue("--timeout", 60) * 1000L;
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        long lastSpawn = System.nanoTime() - 10_000_000_000L;
        while (true) {
            WalArchiver.SpoolStatus st = WalArchiver.consume(spool, file);
            if (st.state() == WalArchiver.SpoolState.PUSHED) {
                return OK;
            }
            if (st.state() == WalArchiver.SpoolState.FAILED) {
                err.println("backupkit wal-push: error: " + st.message());
                return FAILED;
            }
            // a pusher takes its lock within a second of starting: do not start a second one meanwhile
            if (!WalArchiver.isRunning(spool) && System.nanoTime() - lastSpawn > 5_000_000_000L) {
                List<String> cmd = new ArrayList<>(List.of("pusher", "--spool", spool.toString(), "--pgdata", pgdata.toString(),
                        "--parallel", Integer.toString(a.intValue("--parallel", 4)), "--idle-exit", Integer.toString(a.intValue("--idle-exit", 60))));
                if (a.flag("--new-cluster")) {
                    cmd.add("--new-cluster");
                }
                if (!a.flag("--no-mark-done")) {
                    cmd.add("--mark-done");
                }
                a.repositoryArgs(env, cmd);
                spawn(cmd, spool.resolve("pusher.log"));
                lastSpawn = System.nanoTime();
            }
            if (System.nanoTime() > deadline) {
                err.println("backupkit wal-push: error: the asynchronous pusher did not archive " + file.getFileName() + " within "
                        + timeoutMillis / 1000 + " s; PostgreSQL will retry. See " + spool.resolve("pusher.log"));
                return FAILED;
            }
            sleep(50);
        }
    }

    static int pusher(Args a, Map<String, String> env, PrintWriter err) {
        try (Repository repo = openRepository(a, env)) {
            Path pgdata = a.path("--pgdata", null);
            if (pgdata == null) {
                throw new ConfigurationException("pusher needs --pgdata");
            }
            WalArchiver archiver = WalArchiver.builder().repository(repo).dataDirectory(pgdata)
                    .spool(a.path("--spool", WalArchiver.defaultSpool(pgdata))).parallelism(a.intValue("--parallel", 4))
                    .markDone(a.flag("--mark-done")).allowNewCluster(a.flag("--new-cluster"))
                    .idleExit(Duration.ofSeconds(a.intValue("--idle-exit", 60))).build();
            archiver.runUntilIdle();
            return OK;
        } catch (RuntimeException e) {
            return report("wal-push pusher", e, err, 0);
        }
    }

    // ---- fetch -----------------------------------------------------------------------------------

    static int fetch(Args a, Map<String, String> env, PrintWriter err, Path cwd) {
        try {
            String name = a.positional(0, "NAME (the WAL file name, %f)").toString();
            Path dest = a.positional(1, "DEST (where to write it, %p)");
            if (!dest.isAbsolute()) {
                dest = cwd.resolve(dest);
            }
            if (WalNames.kind(name) == null) {
                throw new ConfigurationException("'" + name + "' is not a WAL file name");
            }
            int ahead = a.intValue("--prefetch", 8);
            Path pgdata = a.path("--pgdata", Files.isDirectory(cwd.resolve("pg_wal")) ? cwd : null);
            Path spool = a.path("--spool", pgdata == null ? null : WalPrefetcher.defaultSpool(pgdata));
            boolean prefetch = ahead > 0 && spool != null && WalNames.kind(name) == WalNames.Kind.SEGMENT;
            if (prefetch && WalPrefetcher.take(spool, name, dest)) {
                WalPrefetcher.requested(spool, name);
                ensurePrefetcher(a, env, spool, null, ahead);
                return OK;
            }
            try (Repository repo = openRepository(a, env)) {
                WalArchive.Builder b = WalArchive.builder().repository(repo);
                if (pgdata != null) {
                    b.dataDirectory(pgdata);
                }
                a.systemId().ifPresent(b::systemId);
                WalArchive wal = b.build();
                long systemId = wal.resolveSystemId();
                WalArchive.FetchResult r = wal.fetch(systemId, name, dest);
                if (!r.found()) {
                    return FAILED;
                }
                if (prefetch && r.status() == WalArchive.FetchStatus.FOUND) {
                    WalPrefetcher.requested(spool, name);
                    ensurePrefetcher(a, env, spool, systemId, ahead);
                }
                return OK;
            }
        } catch (RuntimeException e) {
            return report("wal-fetch", e, err, FETCH_ERROR_BASE);
        }
    }

    /** Starts a detached prefetcher unless one runs; remembers the system id in the spool for the fast path. */
    private static void ensurePrefetcher(Args a, Map<String, String> env, Path spool, Long systemId, int ahead) {
        try {
            Path idFile = spool.resolve("system-id");
            if (systemId != null) {
                Files.writeString(idFile, Long.toUnsignedString(systemId), StandardCharsets.US_ASCII);
            } else if (Files.exists(idFile)) {
                systemId = Long.parseUnsignedLong(Files.readString(idFile, StandardCharsets.US_ASCII).trim());
            }
            if (systemId == null || WalPrefetcher.isRunning(spool)) {
                return;
            }
            List<String> cmd = new ArrayList<>(List.of("prefetcher", "--spool", spool.toString(), "--system-id",
                    Long.toUnsignedString(systemId), "--prefetch", Integer.toString(ahead)));
            a.repositoryArgs(env, cmd);
            spawn(cmd, spool.resolve("prefetch.log"));
        } catch (IOException | RuntimeException e) {
            // prefetching only saves time: recovery goes on without it
        }
    }

    static int prefetcher(Args a, Map<String, String> env, PrintWriter err) {
        try (Repository repo = openRepository(a, env)) {
            long systemId = a.systemId().orElseThrow(() -> new ConfigurationException("prefetcher needs --system-id"));
            WalPrefetcher.builder().walArchive(WalArchive.builder().repository(repo).systemId(systemId).build()).systemId(systemId)
                    .spool(a.path("--spool", null)).ahead(a.intValue("--prefetch", 8)).build().runUntilIdle();
            return OK;
        } catch (RuntimeException e) {
            return report("wal-fetch prefetcher", e, err, 0);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------

    /** Prints the error and returns its exit code (plus {@code base}). */
    static int report(String command, RuntimeException e, PrintWriter err, int base) {
        err.println("backupkit " + command + ": error: " + e.getMessage());
        return base + exitCode(e);
    }

    static int exitCode(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IntegrityException || c instanceof KeyException || c instanceof io.backupkit.LogConflictException) {
                return INTEGRITY;
            }
        }
        if (t instanceof ConfigurationException) {
            return USAGE;
        }
        return FAILED;
    }

    static Repository openRepository(Args a, Map<String, String> env) {
        String location = a.value("--repo", env.get(ENV_REPO));
        if (location == null || location.isBlank()) {
            throw new ConfigurationException("no repository given: use --repo REPO or set " + ENV_REPO);
        }
        Repository.Builder b = Repository.builder().location(location);
        String keyFile = a.value("--key-file", null);
        String passwordFile = a.value("--password-file", null);
        if (keyFile != null) {
            b.keyFile(Path.of(keyFile));
        } else if (passwordFile != null) {
            b.password(readFirstLine(Path.of(passwordFile)));
        } else if (env.get(ENV_PASSWORD) != null) {
            b.password(env.get(ENV_PASSWORD).toCharArray());
        }
        return b.open();
    }

    private static char[] readFirstLine(Path file) {
        try {
            String s = Files.readString(file, StandardCharsets.UTF_8);
            int end = 0;
            while (end < s.length() && s.charAt(end) != '\n' && s.charAt(end) != '\r') {
                end++;
            }
            if (end == 0) {
                throw new ConfigurationException("password file " + file + " is empty (the secret is its first line)");
            }
            return s.substring(0, end).toCharArray();
        } catch (IOException e) {
            throw new ConfigurationException("cannot read password file " + file + ": " + e.getClass().getSimpleName());
        }
    }

    /**
     * Starts {@code WalTool args…} as a detached background process (own session where
     * {@code setsid} exists), output appended to {@code log}, with this process's environment.
     */
    static void spawn(List<String> args, Path log) {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(WalTool.class.getName());
        cmd.addAll(args);
        try {
            Files.createDirectories(log.getParent());
            new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new BackupException("cannot start the background process " + args.get(0) + ": " + e.getMessage(), e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException("interrupted", e);
        }
    }

    /** {@code --name value} options, {@code --flag}s and positional arguments. */
    static final class Args {
        private static final List<String> FLAGS = List.of("--async", "--new-cluster", "--mark-done", "--no-mark-done");
        private static final List<String> VALUED = List.of("--repo", "--key-file", "--password-file", "--spool", "--pgdata",
                "--system-id", "--timeout", "--parallel", "--idle-exit", "--prefetch");
        private final Map<String, String> options = new LinkedHashMap<>();
        private final List<String> positional = new ArrayList<>();

        static Args parse(String[] args) {
            Args a = new Args();
            for (int i = 0; i < args.length; i++) {
                String s = args[i];
                if (FLAGS.contains(s)) {
                    a.options.put(s, "true");
                } else if (VALUED.contains(s)) {
                    if (i + 1 >= args.length) {
                        throw new ConfigurationException("option " + s + " needs a value");
                    }
                    a.options.put(s, args[++i]);
                } else if (s.startsWith("--") && s.contains("=") && VALUED.contains(s.substring(0, s.indexOf('=')))) {
                    a.options.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
                } else if (s.startsWith("--")) {
                    throw new ConfigurationException("unknown option " + s);
                } else {
                    a.positional.add(s);
                }
            }
            return a;
        }

        boolean flag(String name) {
            return options.containsKey(name);
        }

        String value(String name, String fallback) {
            return options.getOrDefault(name, fallback);
        }

        Path path(String name, Path fallback) {
            String v = options.get(name);
            return v == null ? fallback : Path.of(v).toAbsolutePath();
        }

        int intValue(String name, int fallback) {
            String v = options.get(name);
            if (v == null) {
                return fallback;
            }
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new ConfigurationException(name + " must be a number, was '" + v + "'");
            }
        }

        java.util.Optional<Long> systemId() {
            String v = options.get("--system-id");
            if (v == null) {
                return java.util.Optional.empty();
            }
            try {
                return java.util.Optional.of(Long.parseUnsignedLong(v));
            } catch (NumberFormatException e) {
                throw new ConfigurationException("--system-id must be the cluster's system identifier (a number), was '" + v + "'");
            }
        }

        Path positional(int index, String what) {
            if (index >= positional.size()) {
                throw new ConfigurationException("missing " + what);
            }
            return Path.of(positional.get(index));
        }

        /** Adds the repository options to a child's command line (secrets stay in files and the environment). */
        void repositoryArgs(Map<String, String> env, List<String> cmd) {
            for (String k : List.of("--repo", "--key-file", "--password-file")) {
                String v = options.get(k);
                if (v != null) {
                    cmd.add(k);
                    cmd.add(k.equals("--repo") ? v : Path.of(v).toAbsolutePath().toString());
                }
            }
        }
    }

}
