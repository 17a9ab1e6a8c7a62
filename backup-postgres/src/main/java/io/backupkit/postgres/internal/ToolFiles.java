package io.backupkit.postgres.internal;

import io.backupkit.EngineException;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Small files next to the tools, made through the {@link CommandExecutor} so they land where the
 * tools run (this host or a pod): pg_restore needs its -L list and, for -j, its archive as files.
 * Only the table of contents and the post-data section ever go to a file, never table data.
 */
final class ToolFiles implements AutoCloseable {
    private final CommandExecutor executor;
    private final String directory;

    ToolFiles(CommandExecutor executor) {
        this.executor = executor;
        ToolRunner.Result r = run(spec("mktemp").arg("-d").arg("-t").arg("backupkit-restore.XXXXXXXX").build(), null);
        if (r.exitCode() != 0) {
            throw new EngineException("cannot make a temporary directory on " + executor.describe(), r.exitCode(), r.stderr(), null);
        }
        this.directory = r.stdout().strip();
    }

    String path(String name) {
        return directory + "/" + name;
    }

    /** Writes {@code content} to a file in the directory and returns its path. */
    String write(String name, InputStream content) {
        String path = path(name);
        CommandSpec spec = spec("sh").arg("-c").arg("umask 077 && cat > \"$0\"").arg(path).build();
        try (RunningCommand rc = start(spec)) {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), "cat");
            rc.stdout().close();
            try (OutputStream out = rc.stdin()) {
                content.transferTo(out);
            }
            int exit = rc.waitFor();
            if (exit != 0) {
                throw new EngineException("cannot write " + path + " on " + executor.describe(), exit, err.await(), null);
            }
            return path;
        } catch (IOException e) {
            throw new EngineException("cannot write " + path + " on " + executor.describe() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while writing " + path, e);
        }
    }

    String write(String name, String content) {
        return write(name, new java.io.ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        run(spec("rm").arg("-rf").arg(directory).build(), null);
    }

    private CommandSpec.Builder spec(String program) {
        return ToolRunner.cleanEnvironment(CommandSpec.builder(program), executor);
    }

    private RunningCommand start(CommandSpec spec) {
        return executor.start(spec);
    }

    private ToolRunner.Result run(CommandSpec spec, byte[] stdin) {
        try (RunningCommand rc = start(spec)) {
            ToolRunner.StderrTail err = ToolRunner.StderrTail.pump(rc.stderr(), spec.command().get(0));
            rc.stdin().close();
            String out = new String(rc.stdout().readAllBytes(), StandardCharsets.UTF_8);
            int exit = rc.waitFor();
            return new ToolRunner.Result(exit, out, err.await());
        } catch (IOException e) {
            throw new EngineException("running " + spec.command().get(0) + " on " + executor.describe() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted", e);
        }
    }
}
