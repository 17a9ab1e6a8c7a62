package io.backupkit.spi;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A process to start: program and arguments, extra environment, working directory. Environment values
 * may hold secrets (PGPASSWORD), so {@link #toString()} shows only their names.
 *
 * <p>By default the child starts from the executor's own environment plus {@link #environment()};
 * with {@code inheritEnvironment(false)} it gets only {@link #environment()}, so ambient variables
 * (PGOPTIONS, PGSSLMODE, …) cannot change what the tool does.
 *
 * <pre>{@code
 * CommandSpec spec = CommandSpec.builder("/usr/bin/pg_dump").arg("--version")
 *         .inheritEnvironment(false).env("PATH", "/usr/bin:/bin").build();
 * }</pre>
 */
public final class CommandSpec {
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path workingDirectory;
    private final boolean inheritEnvironment;

    private CommandSpec(Builder b) {
        if (b.command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        this.command = List.copyOf(b.command);
        this.environment = Map.copyOf(b.environment);
        this.workingDirectory = b.workingDirectory;
        this.inheritEnvironment = b.inheritEnvironment;
    }

    public static Builder builder(String program) {
        return new Builder().arg(program);
    }

    public static CommandSpec of(List<String> command) {
        Builder b = new Builder();
        command.forEach(b::arg);
        return b.build();
    }

    public List<String> command() {
        return command;
    }

    public Map<String, String> environment() {
        return environment;
    }

    /** Working directory, or null for the executor's default. */
    public Path workingDirectory() {
        return workingDirectory;
    }

    /**
     * Whether the child starts from the executor's environment (true, the default) or from
     * {@link #environment()} alone. Executors must honour false: a tool then sees no ambient
     * variable it was not given explicitly — except that an executor running tools somewhere else
     * (a pod) keeps that place's own {@code PATH}, {@code HOME} and {@code TMPDIR}, since only it
     * knows where the tools are installed there.
     */
    public boolean inheritEnvironment() {
        return inheritEnvironment;
    }

    @Override
    public String toString() {
        return String.join(" ", command) + (environment.isEmpty() ? "" : " (env: " + String.join(",", environment.keySet()) + ")")
                + (inheritEnvironment ? "" : " (clean environment)");
    }

    public static final class Builder {
        private final List<String> command = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private Path workingDirectory;
        private boolean inheritEnvironment = true;

        public Builder arg(String arg) {
            command.add(Objects.requireNonNull(arg, "arg"));
            return this;
        }

        public Builder args(List<String> args) {
            args.forEach(this::arg);
            return this;
        }

        public Builder env(String name, String value) {
            environment.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return this;
        }

        public Builder workingDirectory(Path dir) {
            this.workingDirectory = dir;
            return this;
        }

        /** False: the child gets only the variables set with {@link #env(String, String)}. Default true. */
        public Builder inheritEnvironment(boolean inherit) {
            this.inheritEnvironment = inherit;
            return this;
        }

        public CommandSpec build() {
            return new CommandSpec(this);
        }
    }
}
