package io.backupkit.internal.crypto;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Key file slot: KEK = HKDF-SHA256(file content, salt). The file must hold at least 32 bytes; it is
 * read when the slot is used, never copied anywhere.
 */
public final class KeyFileProvider implements KeyProvider {
    public static final String TYPE = "keyfile";
    private static final byte[] AD = "backupkit key slot v1 keyfile".getBytes(StandardCharsets.UTF_8);
    private final Path file;

    public KeyFileProvider(Path file) {
        this.file = file;
    }

    public static Path generate(Path file) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            try {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file);
            }
            Files.write(file, Base64.getEncoder().encode(Aead.randomBytes(48)), StandardOpenOption.TRUNCATE_EXISTING);
            return file;
        } catch (FileAlreadyExistsException e) {
            throw new ConfigurationException("key file " + file + " already exists; not overwriting it");
        } catch (IOException e) {
            throw new ConfigurationException("cannot write key file " + file + ": " + e.getMessage(), e);
        }
    }

    private byte[] secret() {
        try {
            byte[] s = Files.readAllBytes(file);
            if (s.length < 32) {
                throw new ConfigurationException("key file " + file + " holds " + s.length + " bytes; at least 32 are needed");
            }
            return s;
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("key file " + file + " does not exist");
        } catch (IOException e) {
            throw new ConfigurationException("cannot read key file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "key file " + file;
    }

    @Override
    public KeySlot wrap(byte[] masterKey) {
        byte[] salt = Aead.randomBytes(16);
        byte[] kek = Kdf.hkdf(secret(), salt, "backupkit keyfile kek", 32);
        return new KeySlot(TYPE, Map.of("kdf", "hkdf-sha256", "salt", Base64.getEncoder().encodeToString(salt)),
                Aead.seal(kek, masterKey, 0, masterKey.length, AD));
    }

    @Override
    public Optional<byte[]> unwrap(KeySlot slot) {
        if (!TYPE.equals(slot.type())) {
            return Optional.empty();
        }
        // parameters come from storage: a malformed slot is reported (and skipped), never a crash
        if (!"hkdf-sha256".equals(slot.parameters().get("kdf"))) {
            throw new KeyException("key file slot's kdf is not hkdf-sha256");
        }
        String encoded = slot.parameters().get("salt");
        if (encoded == null) {
            throw new KeyException("key file slot has no salt");
        }
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException e) {
            throw new KeyException("key file slot's salt is not base64");
        }
        if (salt.length < 8 || salt.length > 64) {
            throw new KeyException("key file slot's salt has " + salt.length + " bytes; 8-64 are accepted");
        }
        byte[] kek = Kdf.hkdf(secret(), salt, "backupkit keyfile kek", 32);
        byte[] wrapped = slot.wrappedKey();
        try {
            return Aead.open(kek, wrapped, 0, wrapped.length, AD);
        } finally {
            java.util.Arrays.fill(kek, (byte) 0);
        }
    }
}
