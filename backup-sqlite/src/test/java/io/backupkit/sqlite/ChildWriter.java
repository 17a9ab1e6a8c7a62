package io.backupkit.sqlite;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link SqliteWriterMain} child JVM: another process writing to (or locking) the database. */
final class ChildWriter implements AutoCloseable {
    private final Process process;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final AtomicLong committed = new AtomicLong();
    private final StringBuilder output = new StringBuilder();

    ChildWriter(String mode, Path db) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"), SqliteWriterMain.class.getName(), mode,
                db.toString())).redirectErrorStream(true).start();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.equals("ready")) {
                        committed.set(1);
                        ready.countDown();
                    } else if (line.startsWith("committed ")) {
                        committed.set(Long.parseLong(line.substring(10)));
                    }
                }
            } catch (IOException e) {
                // process ended
            }
        }, "sqlite-writer-output");
        t.setDaemon(true);
        t.start();
    }

    void awaitReady() throws InterruptedException {
        if (!ready.await(120, TimeUnit.SECONDS)) {
            throw new AssertionError("writer child did not start: " + output());
        }
    }

    /** Waits until the child has reported at least {@code n} commits. */
    void awaitCommitted(long n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (committed.get() < n) {
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("writer child reached only " + committed.get() + " commits: " + output());
            }
            Thread.sleep(20);
        }
    }

    long committed() {
        return committed.get();
    }

    boolean alive() {
        return process.isAlive();
    }

    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }
}
