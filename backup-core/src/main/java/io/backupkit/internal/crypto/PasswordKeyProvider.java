package io.backupkit.internal.crypto;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Password key slot: KEK = Argon2id(password, salt); the slot stores the KDF parameters, the salt and
 * AES-GCM(KEK, master key). A wrong password fails the GCM tag and opens nothing.
 */
public final class PasswordKeyProvider implements KeyProvider {
    public static final String TYPE = "password";
    public static final int DEFAULT_MEMORY_KIB = 64 * 1024;
    public static final int DEFAULT_ITERATIONS = 3;
    private static final byte[] AD = "backupkit key slot v1 password".getBytes(StandardCharsets.UTF_8);
    private final char[] password;
    private final int memoryKiB;
    private final int iterations;
    private final int parallelism;

    public PasswordKeyProvider(char[] password, int memoryKiB, int iterations, int parallelism) {
        if (password == null || password.length == 0) {
            throw new ConfigurationException("the repository password is empty");
        }
        if (memoryKiB < 8 * parallelism || iterations < 1 || parallelism < 1) {
            throw new ConfigurationException("invalid Argon2id parameters: memory " + memoryKiB + " KiB, "
                    + iterations + " iterations, parallelism " + parallelism);
        }
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
        byte[] kek = Kdf.argon2id(password, salt, memoryKiB, iterations, parallelism);
        byte[] wrapped = Aead.seal(kek, masterKey, 0, masterKey.length, AD);
        return new KeySlot(TYPE, Map.of(
                "kdf", "argon2id",
                "memoryKiB", Integer.toString(memoryKiB),
                "iterations", Integer.toString(iterations),
                "parallelism", Integer.toString(parallelism),
                "salt", Base64.getEncoder().encodeToString(salt)), wrapped);
    }

    @Override
    public Optional<byte[]> unwrap(KeySlot slot) {
        Map<String, String> p = slot.parameters();
        if (!TYPE.equals(slot.type()) || !"argon2id".equals(p.get("kdf"))) {
            return Optional.empty();
        }
        int m = Integer.parseInt(p.get("memoryKiB"));
        int t = Integer.parseInt(p.get("iterations"));
        int par = Integer.parseInt(p.get("parallelism"));
        if (m > 4 * 1024 * 1024 || t > 100 || par > 64) {
            throw new ConfigurationException("key slot asks for unreasonable Argon2id parameters (" + m + " KiB, " + t + " passes)");
        }
        byte[] kek = Kdf.argon2id(password, Base64.getDecoder().decode(p.get("salt")), m, t, par);
        byte[] wrapped = slot.wrappedKey();
        return Aead.open(kek, wrapped, 0, wrapped.length, AD);
    }
}
