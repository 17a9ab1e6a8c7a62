package io.backupkit.internal.repo;

import io.backupkit.spi.KeySlot;

import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/** JSON form of {@code keys/<id>}; the id is the SHA-256 of the stored bytes. */
public record KeySlotFile(int version, String type, Map<String, String> parameters, String wrapped,
                          Instant created, String host) {

    public static KeySlotFile of(KeySlot slot, String host) {
        return new KeySlotFile(1, slot.type(), slot.parameters(), Base64.getEncoder().encodeToString(slot.wrappedKey()),
                Instant.now(), host);
    }

    public KeySlot toSlot() {
        return new KeySlot(type, parameters, Base64.getDecoder().decode(wrapped));
    }
}
