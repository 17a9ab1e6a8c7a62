package io.backupkit;

import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands as local child processes. Environment values (passwords) go to the child only; a spec
 * with {@code inheritEnvironment(false)} starts from an empty environment instead of this JVM's.
 */
public final class LocalCommandExecutor implements CommandExecutor {

    @Override
    public RunningCommand start(CommandSpec spec) {
        ProcessBuilder pb = new ProcessBuilder(spec.command());
        if (!spec.inheritEnvironment()) {
            pb.environment().clear();
        }
        pb.environment().putAll(spec.environment());
        if (spec.workingDirectory() != null) {
            pb.directory(spec.workingDirectory().toFile());
        }
        try {
            return new LocalRunningCommand(pb.start());
        } catch (IOException e) {
            throw new EngineException("cannot start " + spec.command().get(0) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean local() {
        return true;
    }

    @Override
    public String describe() {
        return "local";
    }

    private record LocalRunningCommand(Process process) implements RunningCommand {
        @Override
        public OutputStream stdin() {
            return process.getOutputStream();
        }

        @Override
        public InputStream stdout() {
            return process.getInputStream();
        }

        @Override
        public InputStream stderr() {
            return process.getErrorStream();
        }

        @Override
        public int waitFor() throws InterruptedException {
            return process.waitFor();
        }

        @Override
        public boolean waitFor(Duration timeout) throws InterruptedException {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public boolean isAlive() {
            return process.isAlive();
        }

        @Override
        public void destroy() {
            process.destroy();
            // SIGTERM gets its 5 s even on a thread that was interrupted (a worker stopped by an interrupt closes its
            // child): pg_restore, say, cancels its statement on the server on SIGTERM, and cannot on SIGKILL; only an
            // interrupt during the wait cuts it short
            boolean interrupted = Thread.interrupted();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                interrupted = true;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
