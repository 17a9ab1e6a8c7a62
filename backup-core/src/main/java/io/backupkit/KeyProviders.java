package io.backupkit;

import io.backupkit.internal.crypto.KeyFileProvider;
import io.backupkit.internal.crypto.PasswordKeyProvider;
import io.backupkit.spi.KeyProvider;

import java.nio.file.Path;

/** The built-in key providers. */
public final class KeyProviders {
    private KeyProviders() {
    }

    /**
     * A password slot with Argon2id (64 MiB, 3 passes, 2 lanes), the recommended defaults. Two lanes
     * cost an attacker the same memory and passes as one, and open in about half the time on two cores.
     */
    public static KeyProvider password(char[] password) {
        return new PasswordKeyProvider(password, PasswordKeyProvider.DEFAULT_MEMORY_KIB, PasswordKeyProvider.DEFAULT_ITERATIONS,
                PasswordKeyProvider.DEFAULT_PARALLELISM);
    }

    /**
     * A password slot with explicit Argon2id parameters. The parameters are stored in the slot, so
     * opening needs only the password.
     */
    public static KeyProvider password(char[] password, int memoryKiB, int iterations, int parallelism) {
        return new PasswordKeyProvider(password, memoryKiB, iterations, parallelism);
    }

    /**
     * A key file slot: the file holds at least 32 bytes of secret (create one with
     * {@link #generateKeyFile(Path)}).
     */
    public static KeyProvider keyFile(Path file) {
        return new KeyFileProvider(file);
    }

    /** Writes a new random key file (mode 0600 where supported) and returns it. */
    public static Path generateKeyFile(Path file) {
        return KeyFileProvider.generate(file);
    }
}
