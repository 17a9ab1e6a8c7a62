package io.backupkit.cli;

import picocli.CommandLine.Option;

/** Options every command has. */
final class OutputOptions {
    enum ProgressChoice { auto, bar, plain, none }

    @Option(names = "--json", description = "Print exactly one JSON document on stdout (and nothing else there); no progress.")
    boolean json;

    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
            description = "Progress display on stderr: auto (bar on a terminal, plain lines otherwise), bar, plain, none. Default: ${DEFAULT-VALUE}.")
    ProgressChoice progress = ProgressChoice.auto;

    @Option(names = {"-v", "--verbose"}, description = "Log what happens (stderr) and show stack traces of errors.")
    boolean verbose;

    ProgressRenderer.Mode mode(Terminal terminal) {
        if (json) {
            return ProgressRenderer.Mode.NONE;
        }
        return switch (progress) {
            case auto -> terminal.interactive ? ProgressRenderer.Mode.BAR : ProgressRenderer.Mode.PLAIN;
            case bar -> ProgressRenderer.Mode.BAR;
            case plain -> ProgressRenderer.Mode.PLAIN;
            case none -> ProgressRenderer.Mode.NONE;
        };
    }
}
