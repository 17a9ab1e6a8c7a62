package io.backupkit.internal.crypto;

import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.bouncycastle.crypto.params.HKDFParameters;

import java.nio.charset.StandardCharsets;

/** Key derivation: Argon2id for passwords ({@link Argon2id}), HKDF-SHA256 for subkeys (Bouncy Castle). */
public final class Kdf {
    private Kdf() {
    }

    /**
     * Argon2id v1.3 of the password's UTF-8 bytes, 32 bytes out, with the lanes computed on up to
     * {@code min(parallelism, available processors)} threads ({@link Argon2id}; the same function as
     * Bouncy Castle's generator, which {@link #argon2idBouncyCastle} keeps for comparison).
     */
    public static byte[] argon2id(char[] password, byte[] salt, int memoryKiB, int iterations, int parallelism) {
        byte[] pw = utf8(password);
        try {
            return Argon2id.hash(pw, salt, memoryKiB, iterations, parallelism, 32,
                    Math.min(parallelism, Runtime.getRuntime().availableProcessors()));
        } finally {
            java.util.Arrays.fill(pw, (byte) 0);
        }
    }

    /** Bouncy Castle's Argon2id with the same parameters and output (one thread, lanes in turn). */
    public static byte[] argon2idBouncyCastle(char[] password, byte[] salt, int memoryKiB, int iterations, int parallelism) {
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt)
                .withMemoryAsKB(memoryKiB)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .build();
        Argon2BytesGenerator gen = new Argon2BytesGenerator();
        gen.init(params);
        byte[] out = new byte[32];
        gen.generateBytes(password, out);
        return out;
    }

    /** UTF-8 exactly as Bouncy Castle's generator converts a password (so every existing slot opens alike). */
    private static byte[] utf8(char[] password) {
        return org.bouncycastle.crypto.PasswordConverter.UTF8.convert(password);
    }

    public static byte[] hkdf(byte[] ikm, byte[] salt, String info, int length) {
        HKDFBytesGenerator gen = new HKDFBytesGenerator(new SHA256Digest());
        gen.init(new HKDFParameters(ikm, salt, info.getBytes(StandardCharsets.UTF_8)));
        byte[] out = new byte[length];
        gen.generateBytes(out, 0, length);
        return out;
    }
}
