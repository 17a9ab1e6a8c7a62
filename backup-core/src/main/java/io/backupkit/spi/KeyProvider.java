package io.backupkit.spi;

import java.util.Optional;

/**
 * Wraps and unwraps the repository master key: a password (Argon2id), a key file, a KMS key. Adding a
 * provider to a repository adds a key slot; data is never rewritten.
 */
public interface KeyProvider {

    /** Slot type this provider writes and opens ("password", "keyfile", …). */
    String type();

    /** What this provider is, for messages; never the secret ("password", "key file /etc/bk.key"). */
    String describe();

    /** Wraps {@code masterKey} into a new slot. */
    KeySlot wrap(byte[] masterKey);

    /**
     * Opens a slot of this provider's type.
     *
     * @return the master key, or empty when this provider's secret does not open the slot (wrong
     * password, other key file)
     */
    Optional<byte[]> unwrap(KeySlot slot);
}
