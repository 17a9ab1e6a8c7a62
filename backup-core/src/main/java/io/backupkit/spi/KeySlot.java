package io.backupkit.spi;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One wrapping of the repository master key, as stored in {@code keys/<id>}. Holds no secret: the
 * wrapped key can only be opened with the password, key file or KMS key of its provider.
 *
 * @param type       the {@link KeyProvider#type()} that wrote it ("password", "keyfile", "aws-kms")
 * @param parameters provider parameters (KDF settings, salt, KMS key id), all public
 * @param wrappedKey the master key, encrypted and authenticated by the provider
 */
public record KeySlot(String type, Map<String, String> parameters, byte[] wrappedKey) {
    public KeySlot {
        Objects.requireNonNull(type, "type");
        parameters = Map.copyOf(new TreeMap<>(parameters));
        wrappedKey = wrappedKey.clone();
    }

    @Override
    public byte[] wrappedKey() {
        return wrappedKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeySlot k && type.equals(k.type) && parameters.equals(k.parameters)
                && Arrays.equals(wrappedKey, k.wrappedKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, parameters, Arrays.hashCode(wrappedKey));
    }

    @Override
    public String toString() {
        return "KeySlot[" + type + ", " + parameters + "]";
    }
}
