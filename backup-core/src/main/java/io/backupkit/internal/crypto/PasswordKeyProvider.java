package io.backupkit.internal.crypto;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Password key slot: KEK = Argon2id(password, salt); the slot stores the KDF parameters, the salt and
 * AES-GCM(KEK, master key). A wrong password fails the GCM tag and opens nothing. Parameters are
 * bounded by {@link Argon2Limits} both when a slot is written and when one is read.
 */
public final class PasswordKeyProvider implements KeyProvider {
    public static final String TYPE = "password";
    public static final int DEFAULT_MEMORY_KIB = 64 * 1024;
    public static final int DEFAULT_ITERATIONS = 3;
    /** Lanes, computed in parallel threads ({@link Argon2id}): the same attacker cost as 1, half the wall time on 2 cores. */
    public static final int DEFAULT_PARALLELISM = 2;
    private static final byte[] AD = "backupkit key slot v1 password".getBytes(StandardCharsets.UTF_8);
    private final char[] password;
    private final int memoryKiB;
    private final int iterations;
    private final int parallelism;
    private final Argon2Function argon2;

    /** Argon2id as {@link Kdf#argon2id}; a parameter so a test can remember results it already computed. */
    @FunctionalInterface
    public interface Argon2Function {
        byte[] derive(char[] password, byte[] salt, int memoryKiB, int iterations, int parallelism);
    }

    public PasswordKeyProvider(char[] password, int memoryKiB, int iterations, int parallelism) {
        this(password, memoryKiB, iterations, parallelism, Kdf::argon2id);
    }

    /**
     * With another Argon2id implementation: the fuzz campaign's remembers each (salt, parameters) result, so
     * thousands of mutated slots are unwrapped at the cost of the distinct parameter sets. The limits are
     * checked the same way; production code uses the other constructor.
     */
    public PasswordKeyProvider(char[] password, int memoryKiB, int iterations, int parallelism, Argon2Function argon2) {
        this.argon2 = java.util.Objects.requireNonNull(argon2, "argon2");
        if (password == null || password.length == 0) {
            throw new ConfigurationException("the repository password is empty");
        }
        Argon2Limits.checkForNewSlot(memoryKiB, iterations, parallelism);
        this.password = password.clone();
        this.memoryKiB = memoryKiB;
        this.iterations = iterations;
        this.parallelism = parallelism;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "password";
    }

    @Override
    public KeySlot wrap(byte[] masterKey) {
        byte[] salt = Aead.randomBytes(16);
        byte[] kek = argon2.derive(password, salt, memoryKiB, iterations, parallelism);
        byte[] wrapped = Aead.seal(kek, masterKey, 0, masterKey.length, AD);
        Arrays.fill(kek, (byte) 0);
        return new KeySlot(TYPE, Map.of(
                "kdf", "argon2id",
                "memoryKiB", Integer.toString(memoryKiB),
                "iterations", Integer.toString(iterations),
                "parallelism", Integer.toString(parallelism),
                "salt", Base64.getEncoder().encodeToString(salt)), wrapped);
    }

    /**
     * {@inheritDoc}
     *
     * @throws io.backupkit.KeyException when the slot's parameters are malformed, below the OWASP floor,
     *                                   above the cap or need more heap than this JVM has
     */
    @Override
    public Optional<byte[]> unwrap(KeySlot slot) {
        if (!TYPE.equals(slot.type())) {
            return Optional.empty();
        }
        // the parameters come from storage: checked (floor, cap, format) before any memory is spent
        Argon2Limits.Params p = Argon2Limits.fromSlot(slot.parameters());
        byte[] kek = argon2.derive(password, p.salt(), p.memoryKiB(), p.iterations(), p.parallelism());
        byte[] wrapped = slot.wrappedKey();
        try {
            return Aead.open(kek, wrapped, 0, wrapped.length, AD);
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }
}
