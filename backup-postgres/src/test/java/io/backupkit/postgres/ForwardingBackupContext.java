package io.backupkit.postgres;

import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandExecutor;

import java.io.OutputStream;

/** A {@link BackupContext} that passes everything to another one; tests override what they intercept. */
class ForwardingBackupContext<C extends BackupContext> implements BackupContext {
    final C inner;

    ForwardingBackupContext(C inner) {
        this.inner = inner;
    }

    @Override
    public int parallelism() {
        return inner.parallelism();
    }

    @Override
    public CommandExecutor commandExecutor() {
        return inner.commandExecutor();
    }

    @Override
    public OutputStream newStream(String name) {
        return inner.newStream(name);
    }

    @Override
    public void putMetadata(String key, Object value) {
        inner.putMetadata(key, value);
    }

    @Override
    public void expectedBytes(long bytes) {
        inner.expectedBytes(bytes);
    }
}
