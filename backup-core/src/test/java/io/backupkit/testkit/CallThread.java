package io.backupkit.testkit;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A backup, restore or verification run on a thread of its own, so that a test can interrupt it or make
 * one of its streams fail; records how the call ended (its exception, whether it returned, the interrupt
 * flag after it). Started by the constructor.
 */
public final class CallThread extends Thread {
    /** What the call threw, if it threw. */
    public final AtomicReference<RuntimeException> failure = new AtomicReference<>();
    /** Whether the thread's interrupt flag was set when the call had ended. */
    public final AtomicBoolean interruptFlagAfter = new AtomicBoolean();
    /** Whether the call returned normally (reported success). */
    public final AtomicBoolean returned = new AtomicBoolean();

    private final String what;
    private final Runnable call;

    /** Starts {@code call} on a daemon thread; {@code what} ("the restore") names it in failures. */
    public CallThread(String what, Runnable call) {
        super("test-call");
        this.what = what;
        this.call = call;
        setDaemon(true);
        start();
    }

    @Override
    public void run() {
        try {
            call.run();
            returned.set(true);
        } catch (RuntimeException e) {
            failure.set(e);
        } finally {
            interruptFlagAfter.set(isInterrupted());
        }
    }

    /** Waits at most {@code bound} for the call to end, which must be with an exception (it was stopped). */
    public void awaitStoppedEnd(Duration bound) throws InterruptedException {
        join(bound.toMillis());
        if (isAlive()) {
            fail(what + " did not return within " + bound.toSeconds() + " s of being stopped; its thread:\n  "
                    + Arrays.stream(getStackTrace()).map(Object::toString).collect(Collectors.joining("\n  ")));
        }
        assertFalse(returned.get(), what + " reported success");
    }
}
