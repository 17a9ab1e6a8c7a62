package io.backupkit.spi;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;

/** A started process; close() kills it if it still runs. */
public interface RunningCommand extends AutoCloseable {

    OutputStream stdin();

    InputStream stdout();

    InputStream stderr();

    /** Waits for the process to end and returns its exit status. */
    int waitFor() throws InterruptedException;

    /** Waits at most {@code timeout}; returns true if the process ended. */
    boolean waitFor(Duration timeout) throws InterruptedException;

    boolean isAlive();

    /** Asks the process to stop, then kills it. */
    void destroy();

    @Override
    default void close() {
        if (isAlive()) {
            destroy();
        }
    }
}
