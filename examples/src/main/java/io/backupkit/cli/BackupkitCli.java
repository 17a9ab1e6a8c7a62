package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code backupkit} command line: init, backup, list, show, restore, verify, forget, prune, check, unlock, stats, diff,
 * copy, key, wal-push, wal-fetch, wal-receive, binlog-receive, binlog-list, schedule, metrics, report, k8s, demo.
 *
 * <pre>{@code
 * export BACKUPKIT_PASSWORD=…
 * examples/target/backupkit init   --repo /var/backups/shop
 * examples/target/backupkit backup --repo /var/backups/shop --db postgresql://backup@db/shop --json
 * examples/target/backupkit verify --repo /var/backups/shop latest
 * }</pre>
 *
 * <p>Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error, 3 verification or
 * integrity failure. With {@code --json} stdout carries exactly one JSON document, also on failure
 * ({@code {"error": {...}}}).
 */
@Command(name = "backupkit", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = BackupkitCli.Version.class,
        description = "Back up, restore and verify databases in a deduplicated, compressed, encrypted repository.",
        footer = {"", "Repository password: $BACKUPKIT_PASSWORD or --password-file FILE (never on the command line).",
                "Exit codes: 0 ok, 1 operation failed, 2 usage or configuration error, 3 verification or integrity failure.",
                "Documentation: docs/cli.md"})
public final class BackupkitCli implements Runnable {
    /**
     * The subcommands, in the order help lists them. Not in the {@code @Command} annotation: picocli
     * builds the whole model of every listed command up front (reflection over each option, mixin and
     * nested command), a quarter of a {@code list}'s start-up; {@link #execute} adds only the one the
     * arguments name, or all of them when they name none (help, usage errors).
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(InitCommand.class, BackupCommand.class, ListCommand.class,
            ShowCommand.class, RestoreCommand.class, ForgetCommand.class, PruneCommand.class, CheckCommand.class,
            UnlockCommand.class, StatsCommand.class, DiffCommand.class, CopyCommand.class, VerifyCommand.class,
            KeyCommand.class, WalPushCommand.class, WalFetchCommand.class, WalReceiveCommand.class,
            BinlogReceiveCommand.class, BinlogListCommand.class, ScheduleCommand.class, MetricsCommand.class,
            ReportCommand.class, K8sCommand.class, DemoCommand.class, CommandLine.HelpCommand.class);

    @Spec
    CommandSpec spec;

    BackupkitCli() {
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: demo, init, backup, list, show, restore, verify, "
                + "forget, prune, check, unlock, stats, diff, copy, key, wal-push, wal-fetch, wal-receive, binlog-receive, binlog-list, schedule, "
                + "metrics, report, k8s)");
    }

    public static void main(String[] args) {
        configureLogging(args);
        warmUp(args);
        int code;
        try {
            code = execute(args, Terminal.system());
        } catch (Throwable t) {
            // an Error picocli lets through (OutOfMemoryError, StackOverflowError, a missing class):
            // left uncaught the JVM exits 1, which from wal-fetch means "not archived", and PostgreSQL
            // would end recovery early and promote
            System.err.println("backupkit: error: " + t);
            Throwable warmUp = warmUpFailure;
            if (warmUp != null && t instanceof LinkageError) {
                // a class that failed to initialise on the warm-up thread: the main thread only sees "Could not initialize class"
                System.err.println("backupkit: first failed while starting: " + warmUp + (warmUp.getCause() == null ? "" : ", caused by " + warmUp.getCause()));
            }
            if (t instanceof OutOfMemoryError) {
                // the launcher's heap fits the pipeline at any database size, but a repository's index grows
                // with its blobs (~1 M blobs fill the 128 MiB of up to 2 jobs)
                System.err.println("backupkit: the JVM ran out of memory; give it more, e.g. BACKUPKIT_JAVA_OPTS=-Xmx512m "
                        + "(a repository beyond about a million blobs needs more for its index)");
            }
            code = "wal-fetch".equals(firstWord(args)) ? io.backupkit.postgres.WalTool.FETCH_ERROR_BASE + ExitCodes.FAILED
                    : ExitCodes.FAILED;
        }
        System.exit(code);
    }

    /** Runs the CLI in-process and returns its exit code; does not exit the JVM. */
    public static int execute(String[] args, java.io.OutputStream out, java.io.OutputStream err, java.util.Map<String, String> env) {
        return execute(args, Terminal.of(out, err, env));
    }

    static int execute(String[] args, Terminal terminal) {
        List<String> argList = Arrays.asList(args);
        boolean json = argList.contains("--json");
        boolean verbose = argList.contains("-v") || argList.contains("--verbose");
        Factory factory = new Factory(terminal);
        CommandLine cl = new CommandLine(new BackupkitCli(), factory);
        Version.full = argList.contains("-V") || argList.contains("--version");
        Class<?> only = named(firstWord(args));
        for (Class<?> c : SUBCOMMANDS) {
            if (only == null || c == only) {
                cl.addSubcommand(new CommandLine(c, factory));
            }
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpWidth(120);
        cl.setOut(terminal.out);
        cl.setErr(terminal.err);
        // stdout gets exactly one JSON document, decided here once the command is over: an error (with
        // the command's own document as its "result" when the failure came after it, e.g. in close()),
        // or else the command's document
        ObjectNode[] error = new ObjectNode[1];
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = terminal.err;
            err.println("backupkit: " + ex.getMessage());
            CommandLine c = ex.getCommandLine();
            err.println("Try 'backupkit " + (c == null || c.getParent() == null ? "" : qualifiedName(c) + " ") + "--help' for usage.");
            err.flush();
            // restore_command: a usage error must stop recovery, not look like "segment not archived"
            int usage = c != null && "wal-fetch".equals(c.getCommandName()) ? io.backupkit.postgres.WalTool.FETCH_ERROR_BASE + ExitCodes.USAGE
                    : ExitCodes.USAGE;
            error[0] = Json.error(ex, usage);
            return usage;
        });
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            int code = ExitCodes.of(ex);
            if ("wal-fetch".equals(c.getCommandName())) {
                code += io.backupkit.postgres.WalTool.FETCH_ERROR_BASE; // as the usage errors above: never 1, "not archived"
            }
            PrintWriter err = terminal.err;
            err.println("backupkit: " + (code == ExitCodes.USAGE ? "" : "error: ") + Errors.message(ex));
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            error[0] = Json.error(ex, code);
            return code;
        });
        int code = cl.execute(args);
        JsonNode result = terminal.takeJson();
        if (json && error[0] != null) {
            if (result != null) {
                error[0].set("result", result);
            }
            terminal.out.println(Json.write(error[0]));
        } else if (json && result != null) {
            terminal.out.println(Json.write(result));
        }
        terminal.out.flush();
        terminal.err.flush();
        return code;
    }

    /** The first argument that is not an option: the subcommand, since the top level has no option taking a value. */
    private static String firstWord(String[] args) {
        for (String a : args) {
            if (!a.startsWith("-")) {
                return a;
            }
        }
        return null;
    }

    /** The subcommand class named {@code word}, or null (help, unknown words: every command is added). */
    private static Class<?> named(String word) {
        if (word == null || word.equals("help")) {
            return null;
        }
        for (Class<?> c : SUBCOMMANDS) {
            Command cmd = c.getAnnotation(Command.class);
            if (cmd != null && (cmd.name().equals(word) || Arrays.asList(cmd.aliases()).contains(word))) {
                return c;
            }
        }
        return null;
    }

    private static String qualifiedName(CommandLine c) {
        String name = c.getCommandName();
        CommandLine p = c.getParent();
        while (p != null && p.getParent() != null) {
            name = p.getCommandName() + " " + name;
            p = p.getParent();
        }
        return name;
    }

    /** What the warm-up thread failed with, if anything: reported beside an error it causes on the main thread. */
    private static volatile Throwable warmUpFailure;

    /**
     * While picocli builds the command's model on the main thread (~0.1 s of a cold JVM's start), a thread of
     * its own loads and initialises what every repository command needs next: Jackson's object mapper and the
     * JDK's crypto providers (AES-GCM, HMAC, SHA-256), and pgjdbc when a PostgreSQL URL is among the
     * arguments. The main thread then finds them ready, or waits for the class initialisation already under
     * way; it never does the work twice (docs/performance.md, "Start-up overlap").
     */
    private static void warmUp(String[] args) {
        boolean postgres = Arrays.stream(args).anyMatch(io.backupkit.postgres.internal.PgConnectionConfig::isPostgresUrl);
        Thread t = new Thread(() -> {
            try {
                io.backupkit.internal.Json.MAPPER.readTree("{\"warm\": [1, \"up\"]}");
                javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
                javax.crypto.Mac.getInstance("HmacSHA256");
                java.security.MessageDigest.getInstance("SHA-256");
                if (postgres) {
                    // a PostgreSQL URL among the arguments: its driver is the next thing the command loads
                    Class.forName("org.postgresql.Driver");
                }
            } catch (Exception | LinkageError e) {
                // only a head start was at stake: the command meets the failure again and reports it, with this one (main)
                warmUpFailure = e;
            }
        }, "backupkit-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /** slf4j-simple reads its level once, so it is set before anything logs. */
    private static void configureLogging(String[] args) {
        List<String> a = Arrays.asList(args);
        if ((a.contains("-v") || a.contains("--verbose")) && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
        }
    }

    /** Gives commands the terminal they write to. */
    private static final class Factory implements CommandLine.IFactory {
        private final Terminal terminal;

        Factory(Terminal terminal) {
            this.terminal = terminal;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(Terminal.class);
                c.setAccessible(true);
                return c.newInstance(terminal);
            } catch (NoSuchMethodException e) {
                return CommandLine.defaultFactory().create(cls);
            }
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        /**
         * Whether --version was asked for. picocli copies the version into every subcommand as it builds
         * them (scope INHERIT), so without this flag each start would look up every engine and storage
         * provider (loading the S3 and Kubernetes clients) for nothing.
         */
        static volatile boolean full = true;

        @Override
        public String[] getVersion() {
            String v = BackupkitCli.class.getPackage().getImplementationVersion();
            if (!full) {
                return new String[] {"backupkit " + (v == null ? "0.1.0-SNAPSHOT" : v)};
            }
            java.util.TreeSet<String> engines = new java.util.TreeSet<>();
            java.util.ServiceLoader.load(io.backupkit.spi.DatabaseEngine.class, BackupkitCli.class.getClassLoader())
                    .forEach(e -> engines.add(e.name()));
            java.util.TreeSet<String> storages = new java.util.TreeSet<>(java.util.List.of("file"));
            java.util.ServiceLoader.load(io.backupkit.spi.StorageProvider.class, BackupkitCli.class.getClassLoader())
                    .forEach(p -> storages.addAll(p.schemes()));
            return new String[] {"backupkit " + (v == null ? "0.1.0-SNAPSHOT" : v),
                    "Java " + System.getProperty("java.version") + " on " + System.getProperty("os.name"),
                    "database engines: " + (engines.isEmpty() ? "none" : String.join(", ", engines)),
                    "storage: " + String.join(", ", storages),
                    "compression: " + String.join(", ", io.backupkit.Codecs.all().stream()
                            .map(io.backupkit.spi.CompressionCodec::name).toList())};
        }
    }
}
