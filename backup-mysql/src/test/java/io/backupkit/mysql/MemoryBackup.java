package io.backupkit.mysql;

import io.backupkit.LocalCommandExecutor;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandExecutor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** A BackupContext that keeps streams in memory, with a hook called before every write (to stall or fail a backup on purpose). */
final class MemoryBackup implements BackupContext {
    final Map<String, ByteArrayOutputStream> streams = new ConcurrentHashMap<>();
    final Map<String, Object> metadata = new ConcurrentHashMap<>();
    private final int parallelism;
    private final Consumer<String> beforeWrite;

    MemoryBackup(int parallelism) {
        this(parallelism, s -> { });
    }

    MemoryBackup(int parallelism, Consumer<String> beforeWrite) {
        this.parallelism = parallelism;
        this.beforeWrite = beforeWrite;
    }

    @Override
    public int parallelism() {
        return parallelism;
    }

    @Override
    public CommandExecutor commandExecutor() {
        return new LocalCommandExecutor();
    }

    @Override
    public OutputStream newStream(String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (streams.putIfAbsent(name, b) != null) {
            throw new IllegalStateException("stream " + name + " opened twice");
        }
        return new OutputStream() {
            @Override
            public void write(int x) throws IOException {
                write(new byte[] {(byte) x}, 0, 1);
            }

            @Override
            public void write(byte[] buf, int off, int len) {
                beforeWrite.accept(name);
                b.write(buf, off, len);
            }
        };
    }

    @Override
    public void putMetadata(String key, Object value) {
        metadata.put(key, value);
    }

    @Override
    public void expectedBytes(long bytes) {
    }
}
