package io.backupkit.postgres;

import io.backupkit.spi.BackupContext;
import io.backupkit.spi.CommandExecutor;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A {@link BackupContext} that passes everything to another one; tests override what they intercept. */
class ForwardingBackupContext<C extends BackupContext> implements BackupContext {
    final C inner;

    /**
     * A context whose table-data streams ({@code data-0…}) hold every write until {@code release} opens
     * (at most two minutes), counting {@code writing} down at their first write: the COPY sessions stay
     * mid-stream for as long as a test needs.
     */
    static <C extends BackupContext> ForwardingBackupContext<C> holdingDataStreams(C inner, CountDownLatch writing, CountDownLatch release) {
        return new ForwardingBackupContext<>(inner) {
            @Override
            public OutputStream newStream(String name) {
                OutputStream out = inner.newStream(name);
                if (!name.startsWith("data-0")) {
                    return out;
                }
                return new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        writing.countDown();
                        try {
                            release.await(2, TimeUnit.MINUTES);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        out.write(b, off, len);
                    }
                };
            }
        };
    }

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
