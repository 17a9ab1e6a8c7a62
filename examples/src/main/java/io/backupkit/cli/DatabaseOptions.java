package io.backupkit.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options passed to the database engine. The database password comes from a file or the environment,
 * never from the command line.
 */
final class DatabaseOptions {
    static final String ENV_DB_PASSWORD = "BACKUPKIT_DB_PASSWORD";
    /** The login role (wins over the URL's): how a Kubernetes Secret's username reaches the CLI through secretKeyRef. */
    static final String ENV_DB_USER = "BACKUPKIT_DB_USER";

    @Option(names = "--db-password-file", paramLabel = "FILE",
            description = "Read the database password from the first line of FILE (default: $BACKUPKIT_DB_PASSWORD, then $PGPASSWORD, then $MYSQL_PWD).")
    Path passwordFile;

    @Option(names = {"-o", "--engine-option"}, paramLabel = "KEY=VALUE",
            description = "Pass an option to the database engine (repeatable), e.g. -o toolDirectory=/usr/lib/postgresql/16/bin.")
    Map<String, String> engineOptions = new LinkedHashMap<>();

    /**
     * Refuses -o for a command that connects itself and passes no engine options (wal-receive, binlog-receive):
     * an option such as {@code -o sslmode=require} must not be dropped without a word.
     */
    void refuseEngineOptions(CliCommand command, String commandName) {
        if (!engineOptions.isEmpty()) {
            throw command.usage("-o/--engine-option does not apply to " + commandName + " (given: "
                    + String.join(", ", engineOptions.keySet()) + "); connection settings go in the --db URL");
        }
    }

    /** The database password from the file or the environment, or null. */
    char[] password(Terminal terminal) {
        return Secrets.fromFileOrEnv(passwordFile, "database password file", terminal, ENV_DB_PASSWORD, "PGPASSWORD", "MYSQL_PWD");
    }

    /** Engine options: $BACKUPKIT_DB_USER, the explicit ones, the password, then {@code extra} (which wins). */
    Map<String, String> options(Terminal terminal, Map<String, String> extra) {
        Map<String, String> all = new LinkedHashMap<>();
        String user = terminal.env(ENV_DB_USER);
        if (user != null && !user.isBlank()) {
            all.put("user", user);
        }
        all.putAll(engineOptions);
        char[] pw = password(terminal);
        if (pw != null) {
            all.put("password", new String(pw));
            Arrays.fill(pw, '\0');
        }
        all.putAll(extra);
        return all;
    }
}
