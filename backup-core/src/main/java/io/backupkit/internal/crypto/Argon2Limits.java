package io.backupkit.internal.crypto;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;

import java.util.Base64;
import java.util.Map;

/**
 * The Argon2id parameters backupkit writes and accepts. New slots are never weaker than the OWASP
 * minimum for Argon2id (19 MiB, 2 passes, parallelism 1); parameters read from storage are untrusted,
 * so they are also capped: a hostile slot asking for 4 GiB must not take the JVM down, and one bad
 * slot must never stop the others from being tried.
 */
public final class Argon2Limits {
    /** OWASP Password Storage Cheat Sheet, Argon2id: m = 19 MiB, t = 2, p = 1. */
    public static final int MIN_MEMORY_KIB = 19 * 1024;
    public static final int MIN_ITERATIONS = 2;
    public static final int MAX_MEMORY_KIB = 1024 * 1024;
    public static final int MAX_ITERATIONS = 100;
    public static final int MAX_PARALLELISM = 64;
    /**
     * Cap on memory × passes (KiB·passes): Argon2 time grows with their product, and each alone may be at
     * its cap (1 GiB, 100 passes: minutes per slot). 4 GiB·passes admits 1 GiB with 4 passes (libsodium's
     * "sensitive"), 64 MiB with 64, and takes a few seconds per slot here (the floor, 19 MiB × 2, ~40 ms).
     */
    public static final long MAX_MEMORY_TIMES_PASSES = 4L * 1024 * 1024;
    public static final int MIN_SALT_BYTES = 8;
    public static final int MAX_SALT_BYTES = 64;
    /** Bouncy Castle keeps each 1 KiB Argon2 block in its own object: about 5 % more heap than memoryKiB. */
    private static final double HEAP_PER_KIB = 1.1 * 1024;

    private Argon2Limits() {
    }

    /** Parameters of one password slot, checked. */
    public record Params(int memoryKiB, int iterations, int parallelism, byte[] salt) {
    }

    /**
     * Checks parameters for a new slot.
     *
     * @throws ConfigurationException when below the floor or above the cap
     */
    public static void checkForNewSlot(int memoryKiB, int iterations, int parallelism) {
        String problem = problem(memoryKiB, iterations, parallelism);
        if (problem != null) {
            throw new ConfigurationException("Argon2id parameters refused: " + problem);
        }
    }

    /**
     * Parses and checks the parameters stored in a password slot.
     *
     * @throws KeyException naming what is wrong; the caller skips the slot
     */
    public static Params fromSlot(Map<String, String> p) {
        return fromSlot(p, Runtime.getRuntime().maxMemory());
    }

    /** {@link #fromSlot(Map)} for a JVM whose maximum heap is {@code maxHeapBytes}. */
    public static Params fromSlot(Map<String, String> p, long maxHeapBytes) {
        if (!"argon2id".equals(p.get("kdf"))) {
            throw new KeyException("password slot's kdf is " + describe(p.get("kdf")) + "; this backupkit reads argon2id");
        }
        int m = number(p, "memoryKiB");
        int t = number(p, "iterations");
        int par = number(p, "parallelism");
        String problem = problem(m, t, par);
        if (problem != null) {
            throw new KeyException("password slot's Argon2id parameters are out of range: " + problem);
        }
        long heap = maxMemoryKiBForHeap(maxHeapBytes);
        if (m > heap) {
            throw new KeyException("password slot needs " + m / 1024 + " MiB for Argon2id, more than this JVM can spare ("
                    + heap / 1024 + " MiB with -Xmx" + maxHeapBytes / (1024 * 1024) + "m); run with -Xmx" + heapNeededMiB(m)
                    + "m or more (the backupkit launcher: BACKUPKIT_JAVA_OPTS=-Xmx" + heapNeededMiB(m) + "m)");
        }
        String encoded = p.get("salt");
        if (encoded == null) {
            throw new KeyException("password slot has no salt");
        }
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new KeyException("password slot's salt is not base64");
        }
        if (salt.length < MIN_SALT_BYTES || salt.length > MAX_SALT_BYTES) {
            throw new KeyException("password slot's salt has " + salt.length + " bytes; " + MIN_SALT_BYTES + "-" + MAX_SALT_BYTES
                    + " are accepted");
        }
        return new Params(m, t, par, salt);
    }

    /** Most Argon2 memory (KiB) a JVM with this maximum heap may spend on one slot: three quarters of it. */
    public static long maxMemoryKiBForHeap(long maxHeapBytes) {
        return (long) (maxHeapBytes * 0.75 / HEAP_PER_KIB);
    }

    /** The smallest -Xmx (MiB) at which {@link #maxMemoryKiBForHeap} spares memoryKiB. */
    static long heapNeededMiB(long memoryKiB) {
        return (long) Math.ceil(memoryKiB * HEAP_PER_KIB / 0.75 / (1024 * 1024));
    }

    private static String problem(long m, long t, long p) {
        if (p < 1 || p > MAX_PARALLELISM) {
            return "parallelism " + p + " is outside 1-" + MAX_PARALLELISM;
        }
        if (m < MIN_MEMORY_KIB || t < MIN_ITERATIONS) {
            return "memory " + m + " KiB with " + t + " passes is below the OWASP minimum for Argon2id ("
                    + MIN_MEMORY_KIB + " KiB and " + MIN_ITERATIONS + " passes)";
        }
        if (m > MAX_MEMORY_KIB) {
            return "memory " + m + " KiB is above the cap of " + MAX_MEMORY_KIB + " KiB (1 GiB)";
        }
        if (t > MAX_ITERATIONS) {
            return t + " passes are above the cap of " + MAX_ITERATIONS;
        }
        if (m * t > MAX_MEMORY_TIMES_PASSES) {
            return "memory " + m + " KiB with " + t + " passes (" + m * t + " KiB·passes) is above the cap of "
                    + MAX_MEMORY_TIMES_PASSES + " KiB·passes (4 GiB·passes, e.g. 1 GiB with 4 passes): every open would spend "
                    + "that long on this slot";
        }
        if (m < 8 * p) {
            return "memory " + m + " KiB is less than 8 KiB per lane for parallelism " + p;
        }
        return null;
    }

    private static int number(Map<String, String> p, String key) {
        String v = p.get(key);
        // digits only: no sign, no spaces, at most 9 so it fits an int; the range check follows
        if (v == null || !v.matches("[0-9]{1,9}")) {
            throw new KeyException("password slot's " + key + " is " + describe(v) + ", not a decimal number of at most 9 digits");
        }
        return Integer.parseInt(v);
    }

    private static String describe(String v) {
        if (v == null) {
            return "missing";
        }
        String shown = v.length() > 20 ? v.substring(0, 20) + "…" : v;
        return "\"" + shown.replaceAll("[^\\x20-\\x7e…]", "?") + "\"";
    }
}
