package io.backupkit.ops;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Base of the built-in notifiers: {@link #onEvent} only queues (it never blocks a backup), one
 * daemon thread sends, each send has a bounded timeout and is retried a bounded number of times
 * with backoff; what still fails is logged and counted ({@link #failures()}), never thrown. A full
 * queue drops the event and counts it ({@link #dropped()}).
 */
public abstract class Notifier implements JobListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Notifier.class);
    private static final Object STOP = new Object();

    private final String name;
    private final Set<JobEvent.Type> types;
    private final int retries;
    private final Duration retryDelay;
    private final BlockingQueue<Object> queue;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong pending = new AtomicLong();
    private final Thread sender;
    private volatile boolean closed;

    /**
     * @param name       for logs and metrics ("webhook", "slack", "email"); never a URL (it may hold a token)
     * @param types      the event types sent
     * @param retries    attempts after the first
     * @param retryDelay delay before the first retry, doubled for each further one
     */
    protected Notifier(String name, Set<JobEvent.Type> types, int retries, Duration retryDelay) {
        this.name = Objects.requireNonNull(name);
        this.types = types.isEmpty() ? EnumSet.noneOf(JobEvent.Type.class) : EnumSet.copyOf(types);
        if (retries < 0 || retries > 10) {
            throw new io.backupkit.ConfigurationException(name + " notifier: retries must be 0-10, was " + retries);
        }
        this.retries = retries;
        this.retryDelay = retryDelay;
        this.queue = new ArrayBlockingQueue<>(1000);
        this.sender = new Thread(this::sendLoop, "backupkit-notify-" + name);
        sender.setDaemon(true);
        sender.start();
    }

    /** The outcome events: succeeded, failed, verified, stale. */
    public static Set<JobEvent.Type> outcomes() {
        return EnumSet.of(JobEvent.Type.SUCCEEDED, JobEvent.Type.FAILED, JobEvent.Type.VERIFIED, JobEvent.Type.STALE);
    }

    /** Sends one event; throws on failure (then it is retried). Runs on the notifier's own thread. */
    protected abstract void send(JobEvent event) throws Exception;

    @Override
    public final void onEvent(JobEvent event) {
        if (closed || !types.contains(event.type())) {
            return;
        }
        pending.incrementAndGet();
        if (!queue.offer(event)) {
            pending.decrementAndGet();
            dropped.incrementAndGet();
            LOG.warn("{} notifier: queue full, dropped the {} event of job {}", name, event.type().label(), event.job());
        }
    }

    private void sendLoop() {
        while (true) {
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (item == STOP) {
                return;
            }
            JobEvent event = (JobEvent) item;
            try {
                deliver(event);
            } finally {
                pending.decrementAndGet();
            }
        }
    }

    private void deliver(JobEvent event) {
        Duration delay = retryDelay;
        for (int attempt = 1; ; attempt++) {
            try {
                send(event);
                sent.incrementAndGet();
                return;
            } catch (Exception e) {
                if (attempt > retries) {
                    failures.incrementAndGet();
                    LOG.warn("{} notifier: sending the {} event of job {} failed after {} attempt(s): {}", name, event.type().label(),
                            event.job(), attempt, e.toString());
                    return;
                }
                LOG.debug("{} notifier: attempt {} failed, retrying in {}: {}", name, attempt, delay, e.toString());
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException ie) {
                    failures.incrementAndGet();
                    return;
                }
                delay = delay.multipliedBy(2);
            }
        }
    }

    /** Waits (at most {@code timeout}) until every queued event was sent or given up; true when the queue is empty. */
    public boolean flush(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (pending.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return pending.get() == 0;
    }

    /** The notifier's name ("webhook", "slack", "email"). */
    public String name() {
        return name;
    }

    /** Events delivered. */
    public long sent() {
        return sent.get();
    }

    /** Events given up after all retries. */
    public long failures() {
        return failures.get();
    }

    /** Events dropped because the queue was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Stops accepting events, sends what is queued for at most 30 s, then stops the thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        flush(Duration.ofSeconds(30));
        queue.offer(STOP);
        try {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
    }
}
