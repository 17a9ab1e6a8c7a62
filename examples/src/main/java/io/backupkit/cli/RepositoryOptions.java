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
        Repository.Builder b = Repository.builder().location(location);
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
            Repository.Builder retry = Repository.builder().location(location(terminal)).password(password);
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
