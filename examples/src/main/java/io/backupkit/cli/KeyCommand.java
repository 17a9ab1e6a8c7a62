package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.KeyProviders;
import io.backupkit.KeySlotInfo;
import io.backupkit.Repository;
import io.backupkit.spi.KeyProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

@Command(name = "key", description = "Manage the key slots that open the repository (changing a password is add, then remove).",
        subcommands = {KeyCommand.ListKeys.class, KeyCommand.AddKey.class, KeyCommand.RemoveKey.class},
        footer = {"", "Examples:",
                "  backupkit key list --repo /var/backups/shop",
                "  BACKUPKIT_NEW_PASSWORD=… backupkit key add --repo /var/backups/shop",
                "  backupkit key add --repo /var/backups/shop --new-key-file /etc/backupkit/shop.key",
                "  backupkit key remove --repo /var/backups/shop 3f2a9c01"})
final class KeyCommand implements Runnable {
    static final String ENV_NEW_PASSWORD = "BACKUPKIT_NEW_PASSWORD";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: list, add or remove");
    }

    @Command(name = "list", description = "List the key slots.")
    static final class ListKeys extends CliCommand {
        @Mixin
        RepositoryOptions repository;

        ListKeys(Terminal terminal) {
            super(terminal);
        }

        @Override
        int run() {
            try (Repository repo = repository.open(terminal, null)) {
                List<KeySlotInfo> keys = repo.keys().list();
                if (json()) {
                    ObjectNode n = Json.object();
                    ArrayNode arr = n.putArray("keys");
                    keys.forEach(k -> arr.add(Json.keySlot(k)));
                    printJson(n);
                    return ExitCodes.OK;
                }
                TextTable t = new TextTable("", "ID", "TYPE", "CREATED", "HOST");
                for (KeySlotInfo k : keys) {
                    t.row(k.current() ? "*" : "", k.id().substring(0, Math.min(8, k.id().length())), k.type(),
                            k.created() == null ? "" : ListCommand.TIME.format(k.created()), k.host());
                }
                t.print(out(), "");
                out().println("* opened this session");
                out().flush();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "add", description = "Add a key slot: a new password ($BACKUPKIT_NEW_PASSWORD or --new-password-file) or a key file.")
    static final class AddKey extends CliCommand {
        @Mixin
        RepositoryOptions repository;

        @Option(names = "--new-password-file", paramLabel = "FILE", description = "Read the new password from the first line of FILE.")
        Path newPasswordFile;

        @Option(names = "--new-key-file", paramLabel = "FILE", description = "Add a key-file slot; FILE is generated if it does not exist.")
        Path newKeyFile;

        AddKey(Terminal terminal) {
            super(terminal);
        }

        @Override
        int run() {
            if (newKeyFile != null && newPasswordFile != null) {
                throw usage("give either --new-password-file or --new-key-file, not both");
            }
            KeyProvider provider;
            if (newKeyFile != null) {
                if (!Files.exists(newKeyFile)) {
                    KeyProviders.generateKeyFile(newKeyFile);
                    terminal.err.println("created key file " + newKeyFile);
                }
                provider = KeyProviders.keyFile(newKeyFile);
            } else {
                char[] pw = Secrets.fromFileOrEnv(newPasswordFile, "new password file", terminal, ENV_NEW_PASSWORD);
                if (pw == null) {
                    throw usage("no new key given: set " + ENV_NEW_PASSWORD + ", or give --new-password-file FILE or --new-key-file FILE");
                }
                provider = KeyProviders.password(pw);
            }
            try (Repository repo = repository.open(terminal, null)) {
                KeySlotInfo added = repo.keys().add(provider);
                if (json()) {
                    ObjectNode n = Json.object();
                    n.set("added", Json.keySlot(added));
                    printJson(n);
                } else {
                    out().printf("added %s key slot %s%n", added.type(), added.id().substring(0, Math.min(8, added.id().length())));
                    out().flush();
                }
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "remove", description = "Remove a key slot (not the last one).")
    static final class RemoveKey extends CliCommand {
        @Mixin
        RepositoryOptions repository;

        @Parameters(index = "0", paramLabel = "KEY_ID", description = "Key slot id or unique prefix (see key list).")
        String id;

        RemoveKey(Terminal terminal) {
            super(terminal);
        }

        @Override
        int run() {
            try (Repository repo = repository.open(terminal, null)) {
                repo.keys().remove(id);
                if (json()) {
                    ObjectNode n = Json.object();
                    n.put("removed", id);
                    printJson(n);
                } else {
                    out().printf("removed key slot %s%n", id);
                    out().flush();
                }
            }
            return ExitCodes.OK;
        }
    }
}
