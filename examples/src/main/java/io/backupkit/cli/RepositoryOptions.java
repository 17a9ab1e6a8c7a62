package io.backupkit.cli;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyProviders;
import io.backupkit.KeyRequiredException;
import io.backupkit.Repository;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the repository is and how to open it. The password never appears on the command line. */
final class RepositoryOptions {
    static final String ENV_REPO = "BACKUPKIT_REPO";
    static final String ENV_PASSWORD = "BACKUPKIT_PASSWORD";

    @Option(names = {"-r", "--repo"}, paramLabel = "REPO",
            description = "Repository: a path, file: URI or s3://bucket/prefix URI (default: $BACKUPKIT_REPO).")
    String repo;

    @Option(names = "--password-file", paramLabel = "FILE",
            description = "Read the repository password from the first line of FILE (default: $BACKUPKIT_PASSWORD).")
    Path passwordFile;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "Open the repository with a key file instead of a password (init creates FILE if missing).")
    Path keyFile;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Local cache of index objects, snapshots, blob lists and the last key slot opened, checked on every read "
                    + "(default: $BACKUPKIT_CACHE_DIR, else $XDG_CACHE_HOME/backupkit or ~/.cache/backupkit).")
    Path cacheDir;

    @Option(names = "--no-cache", description = "Neither read nor write the local metadata cache.")
    boolean noCache;

    /** Where the metadata cache lives, or null for none. */
    Path cacheDirectory(Terminal terminal) {
        if (noCache) {
            return null;
        }
        if (cacheDir != null) {
            return cacheDir;
        }
        String env = terminal.env("BACKUPKIT_CACHE_DIR");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String xdg = terminal.env("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "backupkit");
        }
        String home = System.getProperty("user.home");
        return home == null || home.isBlank() ? null : Path.of(home, ".cache", "backupkit");
    }

    private Repository.Builder withCache(Repository.Builder b, Terminal terminal) {
        Path cache = cacheDirectory(terminal);
        return cache == null ? b : b.cacheDirectory(cache);
    }

    String location(Terminal terminal) {
        String location = repo != null ? repo : terminal.env(ENV_REPO);
        if (location == null || location.isBlank()) {
            throw new ConfigurationException("no repository given: use --repo REPO or set " + ENV_REPO);
        }
        return location;
    }

    /** Whether a password or key file was given at all. */
    boolean hasKey(Terminal terminal) {
        return keyFile != null || passwordFile != null || terminal.env(ENV_PASSWORD) != null;
    }

    /** A builder with location and key applied; {@code createKeyFile} generates a missing key file (init). */
    Repository.Builder builder(Terminal terminal, boolean createKeyFile) {
        String location = location(terminal);
        if (keyFile != null && passwordFile != null) {
            throw new ConfigurationException("give either --key-file or --password-file, not both");
        }
        char[] password = keyFile != null ? null : Secrets.fromFileOrEnv(passwordFile, "password file", terminal, ENV_PASSWORD);
        Repository.Builder b = withCache(Repository.builder().location(location), terminal);
        if (keyFile != null) {
            if (createKeyFile && !Files.exists(keyFile)) {
                KeyProviders.generateKeyFile(keyFile);
                terminal.err.println("created key file " + keyFile + " (keep a copy: without it the repository cannot be opened)");
            }
            b.keyFile(keyFile);
        } else if (password != null) {
            // not wiped here: the builder may keep the array until it opens the repository
            b.password(password);
        }
        return b;
    }

    Repository open(Terminal terminal, String compression, boolean mayPrompt) {
        Repository.Builder b = builder(terminal, false);
        if (compression != null) {
            b.compression(compression);
        }
        try {
            return b.open();
        } catch (KeyRequiredException e) {
            // no key given and the repository turns out to be encrypted: a person at a terminal is asked
            boolean askable = mayPrompt && terminal.interactive && !hasKey(terminal);
            if (!askable) {
                throw e;
            }
            char[] password = terminal.askSecret("Repository password: ");
            if (password == null || password.length == 0) {
                throw e;
            }
            Repository.Builder retry = withCache(Repository.builder().location(location(terminal)), terminal).password(password);
            if (compression != null) {
                retry.compression(compression);
            }
            return retry.open();
        }
    }

    /** A new password typed twice at the terminal (init), or null without a terminal. */
    static char[] askNewPassword(Terminal terminal) {
        char[] first = terminal.askSecret("New repository password: ");
        if (first == null) {
            return null;
        }
        if (first.length == 0) {
            throw new ConfigurationException("the repository password must not be empty");
        }
        char[] second = terminal.askSecret("Repeat the password: ");
        if (second == null || !java.util.Arrays.equals(first, second)) {
            throw new ConfigurationException("the two passwords differ; nothing was created");
        }
        return first;
    }
}
