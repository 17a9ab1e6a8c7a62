package io.backupkit.postgres.internal;

import io.backupkit.EngineException;
import io.backupkit.LocalCommandExecutor;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds and runs the PostgreSQL client tools (pg_dump, pg_restore) through a {@link CommandExecutor}.
 * The password reaches the child only through PGPASSWORD; stderr is kept as a bounded tail for
 * error messages.
 */
public final class ToolRunner {
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+)(?:\\.(\\d+))?");
    private static final int STDERR_TAIL = 4000;

    private final CommandExecutor executor;
    private final Path toolDirectory;
    private final PgConnectionConfig connection;

    public ToolRunner(CommandExecutor executor, Path toolDirectory, PgConnectionConfig connection) {
        this.executor = executor;
        this.connection = connection;
        this.toolDirectory = toolDirectory != null ? toolDirectory
                : executor instanceof LocalCommandExecutor ? findLocalToolDirectory().orElse(null) : null;
    }

    /** Whether the tools run as local processes of this JVM (not in a pod, say). */
    public boolean local() {
        return executor.local();
    }

    /** The program path for {@code tool}: inside the tool directory, or the bare name for PATH lookup. */
    public String program(String tool) {
        return toolDirectory == null ? tool : toolDirectory.resolve(tool).toString();
    }

    public String toolLocation() {
        return toolDirectory == null ? "PATH of " + executor.describe() : toolDirectory.toString();
    }

    /**
     * A command for {@code tool} with a clean, explicit environment: the password (PGPASSWORD), the
     * connect timeout, PATH, HOME and C messages, and nothing else. An ambient PGOPTIONS, PGSSLMODE,
     * PGCLIENTENCODING, PGSERVICE, PGHOST… of the JVM would otherwise change what the tool connects
     * to or how its session behaves, unlike the JDBC connections next to it, which ignore them.
     */
    public CommandSpec.Builder command(String tool) {
        return connectionEnvironment(CommandSpec.builder(program(tool)));
    }

    /** The first executable file {@code name} in a directory of this JVM's PATH, or null. */
    static String onPath(String name) {
        String path = System.getenv("PATH");
        for (String dir : (path != null ? path : DEFAULT_PATH).split(java.io.File.pathSeparator)) {
            Path p = dir.isEmpty() ? null : Paths.get(dir, name);
            if (p != null && Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p.toString();
            }
        }
        return null;
    }

    private CommandSpec.Builder connectionEnvironment(CommandSpec.Builder b) {
        cleanEnvironment(b, executor);
        String pw = connection.passwordForChildEnvironment();
        if (pw != null) {
            b.env("PGPASSWORD", pw);
        }
        b.env("PGCONNECT_TIMEOUT", connection.params().getOrDefault("connect_timeout", "30"));
        return b;
    }

    /** Variables of this JVM a local child still gets: where programs and the user's files are, and Kerberos credentials. */
    static final List<String> PASSED_THROUGH = List.of("PATH", "HOME", "TMPDIR", "PGPASSFILE", "KRB5CCNAME", "KRB5_CONFIG");
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /**
     * Makes {@code b} start from an empty environment plus, for local processes, PATH, HOME, TMPDIR,
     * PGPASSFILE and Kerberos settings of this JVM, and {@code LC_ALL=C}, so tool messages are the
     * English ones the error handling reads. A remote executor keeps its own system's PATH (the pod
     * executor keeps the container's, where images put their tools, e.g. /opt/bitnami/postgresql/bin
     * or /usr/lib/postgresql/16/bin): a PATH from here would replace it and find other tools, or none.
     */
    static CommandSpec.Builder cleanEnvironment(CommandSpec.Builder b, CommandExecutor executor) {
        b.inheritEnvironment(false);
        if (executor instanceof LocalCommandExecutor) {
            for (String name : PASSED_THROUGH) {
                String v = System.getenv(name);
                if (v != null) {
                    b.env(name, v);
                }
            }
            if (System.getenv("PATH") == null) {
                b.env("PATH", DEFAULT_PATH);
            }
        }
        b.env("LC_ALL", "C");
        return b;
    }

    public RunningCommand start(String tool, CommandSpec spec) {
        try {
            return executor.start(spec);
        } catch (EngineException e) {
            throw missingTool(tool, e);
        }
    }

    /** Runs {@code tool --version}; returns the version string "15.14". */
    public Version version(String tool) {
        CommandSpec spec = cleanEnvironment(CommandSpec.builder(program(tool)), executor).arg("--version").build();
        Result r = run(tool, spec, null);
        if (r.exitCode != 0) {
            throw new EngineException(tool + " --version failed (" + program(tool) + ")", r.exitCode, r.stderr, null);
        }
        Matcher m = VERSION.matcher(r.stdout);
        if (!m.find()) {
            throw new EngineException("cannot read the version of " + program(tool) + " from '" + r.stdout.strip() + "'");
        }
        return new Version(Integer.parseInt(m.group(1)), m.group(2) == null ? 0 : Integer.parseInt(m.group(2)), r.stdout.strip());
    }

    /** Runs a tool to completion with optional stdin bytes; returns exit code, stdout, stderr tail. */
    public Result run(String tool, CommandSpec spec, byte[] stdin) {
        try (RunningCommand rc = start(tool, spec)) {
            StderrTail err = StderrTail.pump(rc.stderr(), tool);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread outPump = daemon(tool + "-stdout", () -> {
                try (InputStream in = rc.stdout()) {
                    in.transferTo(out);
                } catch (IOException ignored) {
                    // process ended
                }
            });
            try (OutputStream in = rc.stdin()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            } catch (IOException ignored) {
                // the tool may exit without reading its input
            }
            int exit = rc.waitFor();
            outPump.join();
            return new Result(exit, out.toString(StandardCharsets.UTF_8), err.await());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while running " + tool, e);
        }
    }

    private EngineException missingTool(String tool, EngineException cause) {
        if (!(executor instanceof LocalCommandExecutor)) {
            // another executor (a pod) knows better what is missing where; installing local packages would not help
            return new EngineException(cause.getMessage(), cause.exitCode(), "", cause);
        }
        return new EngineException(tool + " not found or not executable at " + program(tool)
                + ": install the PostgreSQL client tools (Debian/Ubuntu: postgresql-client-15 or newer, "
                + "RHEL: postgresql15, macOS: brew install libpq) or set toolDirectory to their bin directory", cause);
    }

    static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, "backupkit-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The newest local client tool directory: /usr/lib/postgresql/N/bin, /usr/pgsql-N/bin, else PATH. */
    public static Optional<Path> findLocalToolDirectory() {
        List<Path> candidates = new ArrayList<>();
        for (String root : List.of("/usr/lib/postgresql", "/usr/local/lib/postgresql")) {
            Path r = Paths.get(root);
            if (Files.isDirectory(r)) {
                try (Stream<Path> s = Files.list(r)) {
                    s.map(p -> p.resolve("bin")).forEach(candidates::add);
                } catch (IOException ignored) {
                    // not readable
                }
            }
        }
        try (Stream<Path> s = Files.list(Paths.get("/usr"))) {
            s.filter(p -> p.getFileName().toString().startsWith("pgsql-")).map(p -> p.resolve("bin")).forEach(candidates::add);
        } catch (IOException ignored) {
            // no /usr listing
        }
        Optional<Path> best = candidates.stream().filter(p -> Files.isExecutable(p.resolve("pg_dump")))
                .max(Comparator.comparingInt(ToolRunner::majorFromPath));
        if (best.isPresent()) {
            return best;
        }
        return Optional.ofNullable(onPath("pg_dump")).map(p -> Paths.get(p).getParent());
    }

    private static int majorFromPath(Path bin) {
        String name = bin.getParent().getFileName().toString().replace("pgsql-", "");
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** A tool's version. */
    public record Version(int major, int minor, String text) {
        @Override
        public String toString() {
            return major + "." + minor;
        }
    }

    /** What a finished tool left behind. */
    public record Result(int exitCode, String stdout, String stderr) {
    }

    /** Drains a process's stderr on its own thread, keeping only the last few KB. */
    public static final class StderrTail {
        private final StringBuilder tail = new StringBuilder();
        private Thread thread;

        public static StderrTail pump(InputStream err, String tool) {
            StderrTail t = new StderrTail();
            t.thread = daemon(tool + "-stderr", () -> {
                byte[] buf = new byte[8192];
                try (InputStream in = err) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        t.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            });
            return t;
        }

        private synchronized void append(String s) {
            tail.append(s);
            if (tail.length() > STDERR_TAIL) {
                tail.delete(0, tail.length() - STDERR_TAIL);
            }
        }

        public String await() throws InterruptedException {
            thread.join(10_000);
            synchronized (this) {
                return tail.toString().strip();
            }
        }
    }
}
