package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.Json;
import io.backupkit.spi.KeySlot;

import java.io.IOException;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/**
 * JSON form of {@code keys/<id>}; the id is the SHA-256 of the stored bytes. Holds no secret.
 *
 * @param version    {@link Formats#KEY_SLOT_VERSION}
 * @param type       the provider type that wrote it
 * @param parameters the provider's public parameters
 * @param wrapped    base64 of the wrapped master key
 * @param created    when the slot was written
 * @param host       the host that wrote it
 * @param repository id of the repository the slot was written for; absent in slots written before it
 *                   was recorded. A slot left by a create that died before its config was stored names a
 *                   repository that never came to be, so it does not count as a slot of this one.
 */
public record KeySlotFile(int version, String type, Map<String, String> parameters, String wrapped,
                          Instant created, String host, String repository) {
    /** Largest key slot object read; real ones are a few hundred bytes. */
    public static final int MAX_BYTES = 64 * 1024;

    public static KeySlotFile of(KeySlot slot, String host, String repositoryId) {
        return new KeySlotFile(Formats.KEY_SLOT_VERSION, slot.type(), slot.parameters(),
                Base64.getEncoder().encodeToString(slot.wrappedKey()), Instant.now(), host, repositoryId);
    }

    /** Same as {@link #of(KeySlot, String, String)} without a repository id (slots written by tools). */
    public static KeySlotFile of(KeySlot slot, String host) {
        return of(slot, host, null);
    }

    public byte[] encode() {
        try {
            return Json.MAPPER.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize a key slot", e);
        }
    }

    /**
     * Reads a stored slot: content hash against the name, JSON, version, and the fields every provider
     * needs. Provider parameters are checked by the provider when it unwraps.
     *
     * @throws IntegrityException                  for a damaged or malformed slot
     * @throws io.backupkit.ConfigurationException for a version this backupkit does not read
     */
    public static KeySlotFile decode(String name, byte[] stored) {
        Formats.checkContentHash(name, stored);
        if (stored.length > MAX_BYTES) {
            throw new IntegrityException(name, "key slot has " + stored.length + " bytes; slots are at most " + MAX_BYTES);
        }
        KeySlotFile f;
        try {
            f = Json.MAPPER.readValue(stored, KeySlotFile.class);
        } catch (IOException e) {
            throw new IntegrityException(name, "key slot is unreadable: " + RepoConfig.firstLine(e.getMessage()), e);
        }
        if (f == null) {
            throw new IntegrityException(name, "key slot is empty");
        }
        Formats.checkVersion(name, "key slot", f.version(), Formats.KEY_SLOT_VERSION);
        if (f.type() == null || f.type().isEmpty() || f.parameters() == null || f.wrapped() == null || f.created() == null) {
            throw new IntegrityException(name, "key slot lacks its type, parameters, wrapped key or creation time");
        }
        if (f.parameters().containsKey(null) || f.parameters().containsValue(null)) {
            throw new IntegrityException(name, "key slot has a parameter without a name or value");
        }
        f.toSlot(name);
        return f;
    }

    /** The slot a provider unwraps. */
    public KeySlot toSlot(String name) {
        try {
            return new KeySlot(type, parameters, Base64.getDecoder().decode(wrapped));
        } catch (IllegalArgumentException e) {
            throw new IntegrityException(name, "key slot's wrapped key is not base64");
        }
    }
}
