package io.backupkit.core;

import io.backupkit.internal.Json;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Kdf;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.KeySlotFile;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Writes repository objects the way a key holder (or an attacker with storage access) could, so tests
 * can present the decoders with well-sealed but hostile content.
 */
final class Forge {
    private static final byte[] KDF_SALT = "backupkit repository v1".getBytes(StandardCharsets.US_ASCII);

    private Forge() {
    }

    /** The data sealer a repository derives from its master key (see repository-format.md, Keys). */
    static Sealer dataSealer(byte[] master) {
        return Sealer.aesGcm(Kdf.hkdf(master, KDF_SALT, "backupkit v1 data encryption", 32));
    }

    /** {@code "BKC1" || mode || seal(json)}: a config as the format describes it. */
    static byte[] config(int mode, Sealer sealer, byte[] json) {
        byte[] sealed = sealer.seal(json, Formats.AD_CONFIG);
        byte[] out = new byte[5 + sealed.length];
        System.arraycopy(Formats.CONFIG_MAGIC, 0, out, 0, 4);
        out[4] = (byte) mode;
        System.arraycopy(sealed, 0, out, 5, sealed.length);
        return out;
    }

    static byte[] json(Object value) {
        try {
            return Json.MAPPER.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes (or replaces) {@code name} in a local repository directory. */
    static void write(Path repo, String name, byte[] bytes) {
        try {
            Path p = repo.resolve(name);
            Files.createDirectories(p.getParent());
            Files.write(p, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a content-addressed object ({@code prefix + SHA-256}) and returns its name. */
    static String writeAddressed(Path repo, String prefix, byte[] bytes) {
        String name = prefix + Hashes.sha256Hex(bytes);
        write(repo, name, bytes);
        return name;
    }

    /** Writes a key slot for {@code slot} the way the repository does and returns its name. */
    static String writeSlot(Path repo, KeySlot slot) {
        return writeAddressed(repo, Formats.KEYS, json(KeySlotFile.of(slot, "forge")));
    }

    /**
     * What a create leaves when its process dies after writing the key slot: the real code writes the
     * slot, then the storage becomes unreachable (the config write and any clean-up fail).
     */
    static void interruptedCreate(Path repo, io.backupkit.spi.KeyProvider key) {
        HookedStorage dying = new HookedStorage(io.backupkit.LocalStorage.of(repo));
        dying.beforePut = name -> {
            if (name.equals(Formats.CONFIG)) {
                throw new io.backupkit.StorageException("simulated crash before writing " + name, false);
            }
        };
        dying.beforeDelete = name -> {
            throw new io.backupkit.StorageException("simulated crash before deleting " + name, false);
        };
        try {
            io.backupkit.Repository.builder().storage(dying).keyProvider(key).create().close();
        } catch (io.backupkit.StorageException expected) {
            return;
        }
        throw new AssertionError("the simulated crash did not stop create");
    }

    /**
     * A key provider that remembers the master key it wraps (its own secret is a constant), so a test
     * can seal repository objects with the repository's real data key.
     */
    static final class RecordingKeyProvider implements KeyProvider {
        static final String TYPE = "test-recording";
        private static final byte[] KEK = Hashes.sha256("recording kek".getBytes(StandardCharsets.US_ASCII), 0, 13);
        private static final byte[] AD = "backupkit test slot".getBytes(StandardCharsets.US_ASCII);
        volatile byte[] master;

        @Override
        public String type() {
            return TYPE;
        }

        @Override
        public String describe() {
            return "test key";
        }

        @Override
        public KeySlot wrap(byte[] masterKey) {
            master = masterKey.clone();
            return new KeySlot(TYPE, Map.of("kdf", "none"), Aead.seal(KEK, masterKey, 0, masterKey.length, AD));
        }

        @Override
        public Optional<byte[]> unwrap(KeySlot slot) {
            if (!TYPE.equals(slot.type())) {
                return Optional.empty();
            }
            byte[] w = slot.wrappedKey();
            Optional<byte[]> m = Aead.open(KEK, w, 0, w.length, AD);
            m.ifPresent(k -> master = k.clone());
            return m;
        }

        Sealer sealer() {
            return dataSealer(master);
        }
    }
}
