package io.backupkit.cli;

import picocli.CommandLine.Command;

@Command(name = "demo", description = "Start a throwaway PostgreSQL, back it up twice, restore, verify and print the results.")
final class DemoCommand extends CliCommand {
    DemoCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        throw new io.backupkit.BackupException("demo: waiting for backup-postgres");
    }
}
