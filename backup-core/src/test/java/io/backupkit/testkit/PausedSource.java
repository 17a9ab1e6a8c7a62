package io.backupkit.testkit;

import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A source whose backup waits, after its lock is taken and its index read, until released: what a prune meets
 * while a backup runs (PruneTest, PruneSafetyTest, PruneMarkWriteTest). One stream, {@code s}, of {@code data}.
 */
public final class PausedSource implements BackupSource {
    /** Counted down when the backup has started (its lock taken, its index read). */
    public final CountDownLatch started = new CountDownLatch(1);
    /** Count down to let the backup write its stream. */
    public final CountDownLatch release = new CountDownLatch(1);
    private final Supplier<InputStream> data;

    public PausedSource(Supplier<InputStream> data) {
        this.data = data;
    }

    @Override
    public String engine() {
        return GeneratedSource.ENGINE;
    }

    @Override
    public String describe() {
        return "a paused source";
    }

    @Override
    public void backup(BackupContext context) {
        started.countDown();
        try {
            assertTrue(release.await(2, TimeUnit.MINUTES));
            try (InputStream in = data.get(); OutputStream out = context.newStream("s")) {
                in.transferTo(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
