package io.backupkit.testkit;

import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A storage decorator that counts requests and bytes per operation and top-level prefix
 * ({@code data/}, {@code index/}, …), and lets a test run code before a write or delete (to fail it,
 * block it, or interleave another operation). The counters are what cost tests assert on.
 *
 * <pre>{@code
 * InterceptingStorage counting = new InterceptingStorage(LocalStorage.of(dir));
 * ... run a prune on a repository over `counting` ...
 * assertTrue(counting.requests("delete", "data/") <= 3);
 * }</pre>
 */
public final class InterceptingStorage implements Storage {
    private final Storage delegate;
    private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
    private volatile Consumer<String> beforePut = n -> { };
    private volatile PutHook aroundPut = (name, payload, write) -> write.getAsBoolean();
    private volatile boolean keepsPayloads;
    private volatile Consumer<String> beforeDelete = n -> { };
    private volatile Consumer<String> beforeGet = n -> { };
    private volatile boolean conditionalWrites = true;
    private volatile java.time.Duration timeShift = java.time.Duration.ZERO;
    private volatile Consumer<String> beforeList = p -> { };
    private volatile Consumer<String> beforeStat = n -> { };
    private volatile java.time.Instant tickOrigin;
    private volatile java.time.Duration tick;
    private volatile java.time.Instant statTickOrigin;
    private volatile java.time.Duration statTick;

    public InterceptingStorage(Storage delegate) {
        this.delegate = delegate;
    }

    /** Runs before every putIfAbsent and putNew with the object name; may throw (the write then fails) or block. */
    public InterceptingStorage beforePut(Consumer<String> hook) {
        this.beforePut = hook;
        return this;
    }

    /** A put as a test sees it: the name, the payload, and the write to the storage below (call it to write). */
    @FunctionalInterface
    public interface PutHook {
        boolean put(String name, Payload payload, java.util.function.BooleanSupplier write);
    }

    /**
     * Runs every putIfAbsent and putNew (after {@link #beforePut}): the hook sees the payload, may hold it,
     * check it, write it (or not) and throw.
     */
    public InterceptingStorage aroundPut(PutHook hook) {
        this.aroundPut = hook;
        return this;
    }

    /**
     * Answers false to {@link #readsPayloadOnlyDuringPut()}: a storage that may keep a payload's array after
     * the put, as one that files arrays away does (the storage below's answer otherwise).
     */
    public InterceptingStorage keepsPayloads() {
        this.keepsPayloads = true;
        return this;
    }

    /** Runs before every delete with the object name. */
    public InterceptingStorage beforeDelete(Consumer<String> hook) {
        this.beforeDelete = hook;
        return this;
    }

    /** Runs before every get (whole or ranged) with the object name. */
    public InterceptingStorage beforeGet(Consumer<String> hook) {
        this.beforeGet = hook;
        return this;
    }

    /**
     * With false, putIfAbsent behaves like an object store that ignores {@code If-None-Match}: it reports
     * success even when the name existed (the existing object stays, as content-addressed names hold the
     * same bytes), so callers cannot learn from it that they lost a race.
     */
    public InterceptingStorage conditionalWrites(boolean supported) {
        this.conditionalWrites = supported;
        return this;
    }

    /** Reports object times shifted by {@code shift}: a storage whose clock differs from this host's. */
    public InterceptingStorage timeShift(java.time.Duration shift) {
        this.timeShift = shift;
        return this;
    }

    private ObjectInfo shifted(ObjectInfo o) {
        ObjectInfo out = timeShift.isZero() ? o : new ObjectInfo(o.name(), o.size(), o.modified().plus(timeShift));
        return inTicks(out, tickOrigin, tick);
    }

    /** {@code o} with its time cut down to a whole number of ticks from {@code origin} (null: as it is). */
    private static ObjectInfo inTicks(ObjectInfo o, java.time.Instant origin, java.time.Duration tick) {
        if (origin == null || java.time.Instant.EPOCH.equals(o.modified()) || o.modified().isBefore(origin)) {
            return o;
        }
        long ticks = java.time.Duration.between(origin, o.modified()).toNanos() / tick.toNanos();
        return new ObjectInfo(o.name(), o.size(), origin.plus(tick.multipliedBy(ticks)));
    }

    private static String prefix(String name) {
        int slash = name.indexOf('/');
        return slash < 0 ? name : name.substring(0, slash + 1);
    }

    private void count(String op, String name, long bytes) {
        String p = prefix(name);
        counters.computeIfAbsent(op + " " + p, k -> new AtomicLong()).incrementAndGet();
        counters.computeIfAbsent(op + " *", k -> new AtomicLong()).incrementAndGet();
        if (bytes > 0) {
            counters.computeIfAbsent(op + " bytes " + p, k -> new AtomicLong()).addAndGet(bytes);
            counters.computeIfAbsent(op + " bytes *", k -> new AtomicLong()).addAndGet(bytes);
        }
    }

    /** Requests of {@code op} (put, get, stat, list, delete) on names under {@code prefix} ("*" for all). */
    public long requests(String op, String prefix) {
        AtomicLong c = counters.get(op + " " + prefix);
        return c == null ? 0 : c.get();
    }

    /** Bytes written by put or read by get under {@code prefix} ("*" for all). */
    public long bytes(String op, String prefix) {
        AtomicLong c = counters.get(op + " bytes " + prefix);
        return c == null ? 0 : c.get();
    }

    /** All counters, for messages. */
    public Map<String, Long> counters() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    public void reset() {
        counters.clear();
    }

    /**
     * For a hook that must not let its request go on until {@code latch} opens (another request it expects to be in
     * flight at the same time): waits up to 30 s, then fails with {@code missing}.
     */
    public static void awaitInHook(java.util.concurrent.CountDownLatch latch, String missing) {
        try {
            if (!latch.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                throw new AssertionError(missing);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs before every list with the prefix; may throw or block (to interleave another operation). */
    public InterceptingStorage beforeList(Consumer<String> hook) {
        this.beforeList = hook;
        return this;
    }

    /** Runs before every stat with the name; may throw or block (to interleave another operation). */
    public InterceptingStorage beforeStat(Consumer<String> hook) {
        this.beforeStat = hook;
        return this;
    }

    /**
     * Reports object times only to {@code resolution}, counted from now: like S3, whose times have whole
     * seconds, but coarse enough that everything a test does falls into one tick (deterministically).
     */
    public InterceptingStorage coarseTimes(java.time.Duration resolution) {
        // the tick first: a request that sees the origin sees the tick
        this.tick = resolution;
        this.tickOrigin = java.time.Instant.now().minusSeconds(1);
        return this;
    }

    /**
     * Like {@link #coarseTimes}, but for stat only: listings keep the storage's own times. That is an S3-compatible
     * store whose HEAD answers an HTTP date (whole seconds: MinIO, Ceph, GCS) while its listings carry milliseconds, so
     * an object's stat time can lie before its listing time, and before the listing time of an object written earlier.
     */
    public InterceptingStorage coarseStatTimes(java.time.Duration resolution) {
        // the tick first: a request that sees the origin sees the tick
        this.statTick = resolution;
        this.statTickOrigin = java.time.Instant.now().minusSeconds(1);
        return this;
    }

    @Override
    public String location() {
        return delegate.location();
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        return conditionalPut(name, payload, () -> delegate.putIfAbsent(name, payload));
    }

    /** Counted and hooked as a put; passed on as {@code putNew}, so the storage below may skip its checks. */
    @Override
    public boolean putNew(String name, Payload payload) {
        return conditionalPut(name, payload, () -> delegate.putNew(name, payload));
    }

    /** A put through {@code write}: hooked and counted, and reported as written when conditional writes are off. */
    private boolean conditionalPut(String name, Payload payload, java.util.function.BooleanSupplier write) {
        beforePut.accept(name);
        count("put", name, payload.length());
        boolean written = aroundPut.put(name, payload, write);
        return conditionalWrites ? written : true;
    }

    @Override
    public boolean atomicPutIfAbsent() {
        return conditionalWrites && delegate.atomicPutIfAbsent();
    }

    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return !keepsPayloads && delegate.readsPayloadOnlyDuringPut();
    }

    @Override
    public InputStream get(String name) {
        beforeGet.accept(name);
        count("get", name, 0);
        return counted(delegate.get(name), name);
    }

    @Override
    public InputStream get(String name, long offset, long length) {
        beforeGet.accept(name);
        count("get", name, 0);
        return counted(delegate.get(name, offset, length), name);
    }

    private InputStream counted(InputStream in, String name) {
        String p = prefix(name);
        AtomicLong bytes = counters.computeIfAbsent("get bytes " + p, k -> new AtomicLong());
        AtomicLong all = counters.computeIfAbsent("get bytes *", k -> new AtomicLong());
        return new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    bytes.incrementAndGet();
                    all.incrementAndGet();
                }
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n > 0) {
                    bytes.addAndGet(n);
                    all.addAndGet(n);
                }
                return n;
            }
        };
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        beforeStat.accept(name);
        count("stat", name, 0);
        return delegate.stat(name).map(o -> inTicks(shifted(o), statTickOrigin, statTick));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        beforeList.accept(prefix);
        count("list", prefix.isEmpty() ? "(all)" : prefix, 0);
        return delegate.list(prefix).stream().map(this::shifted).toList();
    }

    @Override
    public void delete(String name) {
        beforeDelete.accept(name);
        count("delete", name, 0);
        delegate.delete(name);
    }

    @Override
    public void delete(Collection<String> names) {
        for (String n : names) {
            delete(n);
        }
    }

    @Override
    public void close() {
        // the delegate belongs to the test
    }

    @Override
    public String toString() {
        return "InterceptingStorage[" + delegate + "]";
    }
}
