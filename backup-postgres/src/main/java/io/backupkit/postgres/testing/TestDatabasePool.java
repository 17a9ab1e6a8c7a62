package io.backupkit.postgres.testing;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fresh databases on one server, each a file copy of a template (or empty), made one ahead in the
 * background: while a test runs, the copy for the next one is already being made, so {@link #take()}
 * usually returns at once instead of waiting for {@code CREATE DATABASE}. What
 * {@link PostgresDatabaseExtension} uses per test; usable without JUnit too.
 *
 * <pre>{@code
 * try (TestDatabasePool pool = new TestDatabasePool(server, "shop_template")) {
 *     TestDatabase db = pool.take();      // a copy of shop_template nobody has touched
 *     ...
 *     pool.release(db);                   // dropped before release returns
 * }
 * }</pre>
 *
 * <p>Thread-safe. The template must have no connections while copies are made (PostgreSQL refuses
 * otherwise); nothing here connects to it.
 */
public final class TestDatabasePool implements AutoCloseable {
    private final PostgresServer server;
    private final String template;
    private final String prefix;
    private final AtomicInteger counter = new AtomicInteger();
    private final ExecutorService maker;
    private CompletableFuture<TestDatabase> next;
    private boolean closed;

    /**
     * @param template the database to copy, or null for empty databases
     */
    public TestDatabasePool(PostgresServer server, String template) {
        this.server = Objects.requireNonNull(server, "server");
        this.template = template;
        this.prefix = "test_" + Long.toHexString(System.nanoTime() & 0xffffff) + "_";
        this.maker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "backupkit-test-databases");
            t.setDaemon(true);
            return t;
        });
        this.next = makeAhead();
    }

    private CompletableFuture<TestDatabase> makeAhead() {
        String name = prefix + counter.incrementAndGet();
        return CompletableFuture.supplyAsync(() -> {
            if (template != null) {
                server.createDatabaseFromTemplate(name, template);
            } else {
                server.createDatabase(name);
            }
            return new TestDatabase(server, name);
        }, maker);
    }

    /** A fresh database, made for the caller alone; starts making the next one. */
    public synchronized TestDatabase take() {
        if (closed) {
            throw new IllegalStateException("the test database pool on " + server + " is closed");
        }
        CompletableFuture<TestDatabase> ready = next;
        next = makeAhead();
        try {
            return ready.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** Drops a database this pool handed out; returns when it is gone. */
    public void release(TestDatabase db) {
        server.dropDatabase(db.name());
    }

    /** Drops the copy made ahead, if any, and stops the background thread (not the server). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            TestDatabase unused = next.join();
            server.dropDatabase(unused.name());
        } catch (RuntimeException e) {
            // the copy was never made (its failure was or will be reported by take()): nothing to drop
        } finally {
            maker.shutdown();
            try {
                maker.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
