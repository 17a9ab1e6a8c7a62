package io.backupkit.s3;

import io.backupkit.KeyException;
import io.backupkit.spi.KeySlot;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The aws-kms key slot, against {@link InMemoryKmsClientDouble} (a test double doing real AES-GCM). */
class AwsKmsKeyProviderTest {
    private final InMemoryKmsClientDouble kms = new InMemoryKmsClientDouble();
    private final String keyA = kms.newKey();
    private final String keyB = kms.newKey();

    private static byte[] masterKey() {
        byte[] k = new byte[32];
        new Random(7).nextBytes(k);
        return k;
    }

    private AwsKmsKeyProvider provider(String keyId) {
        return AwsKmsKeyProvider.builder().keyId(keyId).kmsClient(kms).build();
    }

    @Test
    void wrapThenUnwrap_returnsTheMasterKey_andTheSlotHoldsNoSecret() {
        byte[] master = masterKey();
        KeySlot slot = provider(keyA).wrap(master);
        assertEquals("aws-kms", slot.type());
        assertEquals(keyA, slot.parameters().get(AwsKmsKeyProvider.PARAM_KEY_ID));
        assertEquals(keyA, slot.parameters().get(AwsKmsKeyProvider.PARAM_KEY_ARN));
        assertEquals("repository-master-key", slot.parameters().get("context.backupkit:purpose"));
        assertFalse(java.util.Arrays.equals(master, slot.wrappedKey()));
        assertFalse(new String(slot.wrappedKey(), java.nio.charset.StandardCharsets.ISO_8859_1)
                .contains(new String(master, java.nio.charset.StandardCharsets.ISO_8859_1)));

        assertArrayEquals(master, provider(keyA).unwrap(slot).orElseThrow());
        assertEquals(1, kms.encryptCalls.get());
        assertEquals(1, kms.decryptCalls.get());
    }

    @Test
    void aliasOfTheSameKey_opensTheSlot() {
        kms.newAlias("alias/backups", keyA);
        byte[] master = masterKey();
        KeySlot slot = provider("alias/backups").wrap(master);
        assertEquals("alias/backups", slot.parameters().get(AwsKmsKeyProvider.PARAM_KEY_ID));
        assertEquals(keyA, slot.parameters().get(AwsKmsKeyProvider.PARAM_KEY_ARN));
        assertArrayEquals(master, provider(keyA).unwrap(slot).orElseThrow());
    }

    @Test
    void slotOfAnotherKmsKey_doesNotOpen() {
        KeySlot slot = provider(keyA).wrap(masterKey());
        assertTrue(provider(keyB).unwrap(slot).isEmpty());
    }

    @Test
    void encryptionContext_isBoundToTheWrappedKey() {
        byte[] master = masterKey();
        KeySlot slot = AwsKmsKeyProvider.builder().keyId(keyA).kmsClient(kms).encryptionContext("repository", "shop").build().wrap(master);
        assertEquals("shop", slot.parameters().get("context.repository"));
        // the slot carries its context, so any provider of the same key opens it
        assertArrayEquals(master, provider(keyA).unwrap(slot).orElseThrow());

        Map<String, String> changed = new HashMap<>(slot.parameters());
        changed.put("context.repository", "other");
        assertTrue(provider(keyA).unwrap(new KeySlot(slot.type(), changed, slot.wrappedKey())).isEmpty(),
                "KMS refuses the wrapped key under another context");
    }

    @Test
    void tamperedWrappedKey_doesNotOpen() {
        KeySlot slot = provider(keyA).wrap(masterKey());
        byte[] wrapped = slot.wrappedKey();
        wrapped[wrapped.length - 1] ^= 1;
        assertTrue(provider(keyA).unwrap(new KeySlot(slot.type(), slot.parameters(), wrapped)).isEmpty());
    }

    @Test
    void slotOfAnotherType_isNotTouched() {
        assertTrue(provider(keyA).unwrap(new KeySlot("password", Map.of(), new byte[48])).isEmpty());
        assertEquals(0, kms.decryptCalls.get());
    }

    @Test
    void disabledKey_isKeyException_namingTheKey() {
        KeySlot slot = provider(keyA).wrap(masterKey());
        kms.disableKey(keyA);
        KeyException e = assertThrows(KeyException.class, () -> provider(keyA).unwrap(slot));
        assertTrue(e.getMessage().contains(keyA) && e.getMessage().contains("disabled"), e.getMessage());
        KeyException wrap = assertThrows(KeyException.class, () -> provider(keyA).wrap(masterKey()));
        assertTrue(wrap.getMessage().contains(keyA));
    }

    @Test
    void unknownKey_isKeyException() {
        KeyException e = assertThrows(KeyException.class, () -> provider("alias/nope").wrap(masterKey()));
        assertTrue(e.getMessage().contains("alias/nope"), e.getMessage());
    }

    @Test
    void rotation_isAddThenRemove_withoutTouchingTheMasterKey() {
        byte[] master = masterKey();
        KeySlot old = provider(keyA).wrap(master);
        // rotate: open with the old key, wrap the same master key with the new one
        byte[] opened = provider(keyA).unwrap(old).orElseThrow();
        KeySlot rotated = provider(keyB).wrap(opened);
        assertArrayEquals(master, provider(keyB).unwrap(rotated).orElseThrow());
        assertTrue(provider(keyA).unwrap(rotated).isEmpty(), "the old KMS key no longer opens the new slot");
    }

    @Test
    void describe_namesKeyOnly() {
        AwsKmsKeyProvider p = provider(keyA);
        assertEquals("aws-kms", p.type());
        assertEquals("AWS KMS key " + keyA, p.describe());
    }
}
