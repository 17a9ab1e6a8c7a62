package io.backupkit.s3;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DecryptRequest;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.DisabledException;
import software.amazon.awssdk.services.kms.model.EncryptRequest;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.IncorrectKeyException;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.NotFoundException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * TEST DOUBLE for AWS KMS — not a KMS. No local KMS server exists, so this implements the SDK's
 * {@link KmsClient} interface in memory with real cryptography: each key is a random AES-256 key;
 * Encrypt seals the plaintext with AES-GCM, authenticating the encryption context; Decrypt refuses a
 * ciphertext of another key ({@code IncorrectKeyException}) or under another context
 * ({@code InvalidCiphertextException}), and disabled keys fail like KMS ({@code DisabledException}).
 * Ciphertext blob: {@code arnLength(2) || arn || nonce(12) || AES-GCM(plaintext)}.
 */
public final class InMemoryKmsClientDouble implements KmsClient {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Map<String, byte[]> keysByArn = new ConcurrentHashMap<>();
    private final Map<String, String> aliases = new ConcurrentHashMap<>();
    private final Set<String> disabled = ConcurrentHashMap.newKeySet();
    final AtomicInteger encryptCalls = new AtomicInteger();
    final AtomicInteger decryptCalls = new AtomicInteger();

    /** Creates a key and returns its ARN. */
    public String newKey() {
        String arn = "arn:aws:kms:us-east-1:000000000000:key/" + UUID.randomUUID();
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        keysByArn.put(arn, key);
        return arn;
    }

    public void newAlias(String alias, String arn) {
        aliases.put(alias, arn);
    }

    public void disableKey(String arn) {
        disabled.add(arn);
    }

    private String resolve(String keyId) {
        String arn = keyId.startsWith("alias/") ? aliases.get(keyId) : keyId;
        if (arn == null || !keysByArn.containsKey(arn)) {
            throw NotFoundException.builder().message("Key '" + keyId + "' does not exist")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("NotFoundException").build()).statusCode(400).build();
        }
        if (disabled.contains(arn)) {
            throw DisabledException.builder().message(arn + " is disabled.")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("DisabledException").build()).statusCode(400).build();
        }
        return arn;
    }

    private static byte[] aad(Map<String, String> context) {
        StringBuilder s = new StringBuilder();
        new TreeMap<>(context).forEach((k, v) -> s.append(k.length()).append(':').append(k).append(v.length()).append(':').append(v));
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public EncryptResponse encrypt(EncryptRequest request) {
        encryptCalls.incrementAndGet();
        String arn = resolve(request.keyId());
        byte[] plain = request.plaintext().asByteArray();
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(keysByArn.get(arn), "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(aad(request.encryptionContext()));
            byte[] sealed = c.doFinal(plain);
            byte[] arnBytes = arn.getBytes(StandardCharsets.UTF_8);
            ByteBuffer blob = ByteBuffer.allocate(2 + arnBytes.length + 12 + sealed.length);
            blob.putShort((short) arnBytes.length).put(arnBytes).put(nonce).put(sealed);
            return EncryptResponse.builder().keyId(arn).ciphertextBlob(SdkBytes.fromByteArray(blob.array()))
                    .encryptionAlgorithm("SYMMETRIC_DEFAULT").build();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public DecryptResponse decrypt(DecryptRequest request) {
        decryptCalls.incrementAndGet();
        ByteBuffer blob = ByteBuffer.wrap(request.ciphertextBlob().asByteArray());
        String arn;
        byte[] nonce = new byte[12];
        byte[] sealed;
        try {
            byte[] arnBytes = new byte[blob.getShort()];
            blob.get(arnBytes);
            arn = new String(arnBytes, StandardCharsets.UTF_8);
            blob.get(nonce);
            sealed = new byte[blob.remaining()];
            blob.get(sealed);
        } catch (RuntimeException e) {
            throw invalidCiphertext();
        }
        if (!keysByArn.containsKey(arn)) {
            throw invalidCiphertext();
        }
        if (request.keyId() != null && !resolve(request.keyId()).equals(arn)) {
            throw IncorrectKeyException.builder()
                    .message("The key ID in the request does not identify a CMK that can perform this operation.")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("IncorrectKeyException").build()).statusCode(400).build();
        }
        resolve(arn); // disabled keys cannot decrypt
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(keysByArn.get(arn), "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(aad(request.encryptionContext()));
            byte[] plain = c.doFinal(sealed);
            return DecryptResponse.builder().keyId(arn).plaintext(SdkBytes.fromByteArray(plain))
                    .encryptionAlgorithm("SYMMETRIC_DEFAULT").build();
        } catch (AEADBadTagException e) {
            throw invalidCiphertext();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static InvalidCiphertextException invalidCiphertext() {
        return InvalidCiphertextException.builder().message(null)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode("InvalidCiphertextException").build()).statusCode(400).build();
    }

    @Override
    public String serviceName() {
        return SERVICE_NAME;
    }

    @Override
    public void close() {
        // nothing held
    }
}
