package io.backupkit.internal.pipeline;

import io.backupkit.StorageException;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.Formats;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.InterceptingStorage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Checks what a writer does with a pack's array while it is stored, as a put hook of an
 * {@link InterceptingStorage}: each pack ({@code data/}) is stored slowly (a delay drawn from a seed), and
 * the bytes it was given at the start of its put must still be in the array when the put ends, must be the
 * pack its name hashes, and the array must be in no other put at the same time. Problems are collected, not
 * thrown, so the writer runs on.
 *
 * <p>On a storage that keeps payloads ({@link InterceptingStorage#keepsPayloads()}) it keeps every pack's
 * array, as such a storage may, and {@link #checkKeptArrays()} finds any that changed after the put returned.
 * It can fail one pack's put after holding it until other packs were stored.
 */
final class PayloadChecker {
    private record Kept(String name, Payload.ArrayPayload payload, byte[] given) {
    }

    private final boolean keepArrays;
    private final Random delays;
    private final int maxDelayMillis;
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    /** Arrays in a put now, by identity; guarded by itself. */
    private final Set<byte[]> inPut = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<Kept> kept = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger packPuts = new AtomicInteger();
    private final AtomicInteger packPutsReturned = new AtomicInteger();
    private int failAt = -1;
    private int holdFor;
    private volatile int storedWhileHeld = -1;
    private InterceptingStorage storage;

    /**
     * @param keepArrays     keep every pack's array (for a storage that keeps payloads)
     * @param maxDelayMillis each pack's put takes a delay in {@code [0, maxDelayMillis]}
     */
    private PayloadChecker(boolean keepArrays, long seed, int maxDelayMillis) {
        this.keepArrays = keepArrays;
        this.delays = new Random(seed);
        this.maxDelayMillis = maxDelayMillis;
    }

    /** A checker on {@code storage}, which is done with a payload when its put returns. */
    static PayloadChecker on(Storage storage, long seed, int maxDelayMillis) {
        return new PayloadChecker(false, seed, maxDelayMillis).install(new InterceptingStorage(storage));
    }

    /** A checker on {@code storage} said to keep payloads: it keeps every array it is given. */
    static PayloadChecker keepingOn(Storage storage, long seed, int maxDelayMillis) {
        return new PayloadChecker(true, seed, maxDelayMillis).install(new InterceptingStorage(storage).keepsPayloads());
    }

    private PayloadChecker install(InterceptingStorage s) {
        this.storage = s.aroundPut(this::put);
        return this;
    }

    /** The storage to give a repository. */
    InterceptingStorage storage() {
        return storage;
    }

    /**
     * Fails the {@code n}-th pack's put (counted from 1): it holds the array until {@code others} later
     * puts of packs returned (10 s at most), checks it is unchanged, and throws a StorageException.
     */
    PayloadChecker failPackPut(int n, int others) {
        this.failAt = n;
        this.holdFor = others;
        return this;
    }

    /** Puts of packs that returned while the failing put held its array, or -1 before it failed. */
    int storedWhileHeld() {
        return storedWhileHeld;
    }

    /** What went wrong so far: a pack changed while (or after, for a keeping storage) it was stored. */
    List<String> problems() {
        synchronized (problems) {
            return List.copyOf(problems);
        }
    }

    /** Checks every array kept for a storage that keeps payloads; adds a problem for each that changed. */
    void checkKeptArrays() {
        synchronized (kept) {
            for (Kept k : kept) {
                if (changed(k.payload(), k.given())) {
                    problems.add(k.name() + " changed after its put returned, though the storage keeps its array");
                }
            }
        }
    }

    private boolean put(String name, Payload payload, BooleanSupplier write) {
        if (!name.startsWith("data/") || !(payload instanceof Payload.ArrayPayload a)) {
            return write.getAsBoolean();
        }
        int n = packPuts.incrementAndGet();
        byte[] given = Arrays.copyOfRange(a.array(), a.offset(), a.offset() + a.arrayLength());
        if (!Formats.packName(Hashes.hex(Hashes.sha256(given, 0, given.length))).equals(name)) {
            problems.add(name + " was given bytes that are not the pack's");
        }
        synchronized (inPut) {
            if (!inPut.add(a.array())) {
                problems.add(name + " came in an array that another put is storing");
            }
        }
        try {
            sleep(delay());
            if (n == failAt) {
                int before = packPutsReturned.get();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (packPutsReturned.get() < before + holdFor && System.nanoTime() < deadline) {
                    sleep(5);
                }
                storedWhileHeld = packPutsReturned.get() - before;
                check(name, a, given);
                throw new StorageException("injected failure storing " + name, true);
            }
            boolean written = write.getAsBoolean();
            check(name, a, given);
            if (keepArrays) {
                kept.add(new Kept(name, a, given));
            }
            return written;
        } finally {
            synchronized (inPut) {
                inPut.remove(a.array());
            }
            packPutsReturned.incrementAndGet();
        }
    }

    private void check(String name, Payload.ArrayPayload a, byte[] given) {
        if (changed(a, given)) {
            problems.add(name + " changed while it was being stored");
        }
    }

    private static boolean changed(Payload.ArrayPayload a, byte[] given) {
        return !Arrays.equals(a.array(), a.offset(), a.offset() + a.arrayLength(), given, 0, given.length);
    }

    private int delay() {
        synchronized (delays) {
            return delays.nextInt(maxDelayMillis + 1);
        }
    }

    private static void sleep(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("interrupted while storing (test)", true);
        }
    }
}
