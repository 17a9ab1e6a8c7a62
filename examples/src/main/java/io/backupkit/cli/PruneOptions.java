package io.backupkit.cli;

import io.backupkit.ConfigurationException;
import io.backupkit.PruneManager;
import io.backupkit.Repository;
import picocli.CommandLine.Option;

/** Options of prune, shared by forget --prune. */
final class PruneOptions {
    @Option(names = "--repack-threshold", paramLabel = "PERCENT", defaultValue = "5",
            description = "Rewrite packs of which more than PERCENT is unused (default ${DEFAULT-VALUE}).")
    double repackThreshold = 5;

    PruneManager.Builder builder(Repository repo, boolean dryRun, Terminal terminal, boolean quiet) {
        if (repackThreshold < 0 || repackThreshold > 100) {
            throw new ConfigurationException("--repack-threshold is a percentage from 0 to 100, was " + repackThreshold);
        }
        PruneManager.Builder b = PruneManager.builder().repository(repo).dryRun(dryRun).repackThreshold(repackThreshold / 100.0);
        if (!quiet) {
            b.progress(line -> {
                terminal.err.println("prune: " + line);
                terminal.err.flush();
            });
        }
        return b;
    }
}
