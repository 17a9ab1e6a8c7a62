package io.backupkit.s3;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;
import io.backupkit.StorageException;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.DisabledException;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.IncorrectKeyException;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KmsInvalidStateException;
import software.amazon.awssdk.services.kms.model.NotFoundException;

import java.net.URI;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Key slot type {@code aws-kms}: the repository master key encrypted by an AWS KMS key. The wrapped
 * key and the KMS key id are stored in {@code keys/<id>}; opening the repository needs
 * {@code kms:Decrypt} on that key, nothing else. An encryption context binds the wrapped key to
 * backupkit (and optionally to more pairs you choose); KMS refuses to decrypt it under another context.
 *
 * <p>Rotating to a new KMS key is add + remove: open with the old provider, {@code keys().add(newProvider)},
 * then {@code keys().remove(oldSlotId)}. No data is rewritten. (KMS's own automatic rotation needs
 * nothing at all: old ciphertexts keep decrypting.)
 *
 * <pre>{@code
 * KeyProvider kms = AwsKmsKeyProvider.builder()
 *         .keyId("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…")
 *         .region("eu-west-1")
 *         .build();
 * Repository repo = Repository.builder().location("s3://acme-backups/shop").keyProvider(kms).openOrCreate();
 * }</pre>
 */
public final class AwsKmsKeyProvider implements KeyProvider, AutoCloseable {
    /** The slot type this provider writes. */
    public static final String TYPE = "aws-kms";
    /** Slot parameter: the key id as configured (alias, id or ARN). */
    public static final String PARAM_KEY_ID = "kms-key-id";
    /** Slot parameter: the key ARN KMS reported when wrapping. */
    public static final String PARAM_KEY_ARN = "kms-key-arn";
    /** Prefix of slot parameters that hold the encryption context. */
    public static final String PARAM_CONTEXT_PREFIX = "context.";
    private static final Map<String, String> BASE_CONTEXT = Map.of("backupkit:purpose", "repository-master-key");

    private final String keyId;
    private final Map<String, String> encryptionContext;
    private final KmsClient kms;
    private final boolean ownsClient;

    private AwsKmsKeyProvider(Builder b) {
        this.keyId = b.keyId;
        Map<String, String> ctx = new TreeMap<>(BASE_CONTEXT);
        ctx.putAll(b.context);
        this.encryptionContext = Map.copyOf(ctx);
        if (b.kmsClient != null) {
            this.kms = b.kmsClient;
            this.ownsClient = false;
        } else {
            KmsClientBuilder cb = KmsClient.builder();
            if (b.region != null) {
                cb.region(Region.of(b.region));
            }
            if (b.endpoint != null) {
                cb.endpointOverride(b.endpoint);
            }
            try {
                this.kms = cb.build();
            } catch (SdkException e) {
                throw new ConfigurationException("cannot set up the AWS KMS client for key " + b.keyId + ": " + e.getMessage()
                        + "; set region(…) on the key provider or AWS_REGION in the environment", e);
            }
            this.ownsClient = true;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The KMS key new slots are wrapped with. */
    public String keyId() {
        return keyId;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "AWS KMS key " + keyId;
    }

    @Override
    public KeySlot wrap(byte[] masterKey) {
        EncryptResponse r;
        try {
            r = kms.encrypt(e -> e.keyId(keyId).plaintext(SdkBytes.fromByteArray(masterKey)).encryptionContext(encryptionContext));
        } catch (SdkException e) {
            throw failure("wrapping the master key with", keyId, e);
        }
        Map<String, String> params = new LinkedHashMap<>();
        params.put(PARAM_KEY_ID, keyId);
        if (r.keyId() != null) {
            params.put(PARAM_KEY_ARN, r.keyId());
        }
        encryptionContext.forEach((k, v) -> params.put(PARAM_CONTEXT_PREFIX + k, v));
        return new KeySlot(TYPE, params, r.ciphertextBlob().asByteArray());
    }

    /**
     * Opens a slot with this provider's KMS key. Empty when the slot was wrapped by another KMS key or
     * under another context (so another slot may open the repository).
     *
     * @throws KeyException when KMS refuses for a reason the caller must fix (key disabled, deleted,
     *                      access denied)
     */
    @Override
    public Optional<byte[]> unwrap(KeySlot slot) {
        if (!TYPE.equals(slot.type())) {
            return Optional.empty();
        }
        String slotKey = slot.parameters().getOrDefault(PARAM_KEY_ARN, slot.parameters().get(PARAM_KEY_ID));
        Map<String, String> context = new TreeMap<>();
        slot.parameters().forEach((k, v) -> {
            if (k.startsWith(PARAM_CONTEXT_PREFIX)) {
                context.put(k.substring(PARAM_CONTEXT_PREFIX.length()), v);
            }
        });
        byte[] wrapped = slot.wrappedKey();
        DecryptResponse r;
        try {
            // naming our key makes KMS refuse (IncorrectKeyException) slots of other keys instead of
            // silently using whatever key the ciphertext names
            r = kms.decrypt(d -> d.keyId(keyId).ciphertextBlob(SdkBytes.fromByteArray(wrapped)).encryptionContext(context));
        } catch (IncorrectKeyException | InvalidCiphertextException e) {
            return Optional.empty();
        } catch (SdkException e) {
            throw failure("unwrapping the key slot of " + (slotKey == null ? "an unknown KMS key" : slotKey) + " with", keyId, e);
        } finally {
            Arrays.fill(wrapped, (byte) 0);
        }
        return Optional.of(r.plaintext().asByteArray());
    }

    private static RuntimeException failure(String action, String keyId, SdkException e) {
        if (e instanceof DisabledException || e instanceof KmsInvalidStateException) {
            return new KeyException(action + " AWS KMS key " + keyId + " failed: the key is disabled or pending deletion ("
                    + e.getClass().getSimpleName() + "); enable it or open the repository with another key slot");
        }
        if (e instanceof NotFoundException) {
            return new KeyException(action + " AWS KMS key " + keyId + " failed: no such key in this account and region");
        }
        if (e instanceof AwsServiceException s && s.statusCode() == 400 && s.awsErrorDetails() != null
                && "AccessDeniedException".equals(s.awsErrorDetails().errorCode())) {
            return new KeyException(action + " AWS KMS key " + keyId + " failed: access denied; grant kms:Encrypt and"
                    + " kms:Decrypt on the key to the credentials in use");
        }
        if (e instanceof AwsServiceException s) {
            boolean retryable = s.statusCode() >= 500 || s.isThrottlingException();
            return new StorageException(action + " AWS KMS key " + keyId + " failed (HTTP " + s.statusCode() + "): "
                    + (s.awsErrorDetails() == null ? s.getClass().getSimpleName() : s.awsErrorDetails().errorMessage()), retryable, e);
        }
        return new StorageException(action + " AWS KMS key " + keyId + " failed: " + e.getMessage(), true, e);
    }

    /** Closes the KMS client if this provider created it. */
    @Override
    public void close() {
        if (ownsClient) {
            kms.close();
        }
    }

    @Override
    public String toString() {
        return "AwsKmsKeyProvider[" + keyId + "]";
    }

    /** Configures an {@link AwsKmsKeyProvider}. */
    public static final class Builder {
        private String keyId;
        private final Map<String, String> context = new LinkedHashMap<>();
        private KmsClient kmsClient;
        private String region;
        private URI endpoint;

        private Builder() {
        }

        /** The KMS key to wrap with: key id, key ARN, alias name ("alias/backups") or alias ARN. Required. */
        public Builder keyId(String keyId) {
            if (keyId == null || keyId.isBlank()) {
                throw new ConfigurationException("AWS KMS key provider needs a key id, ARN or alias");
            }
            this.keyId = keyId;
            return this;
        }

        /**
         * Adds a pair to the encryption context (public, logged by CloudTrail, must match to decrypt).
         * "backupkit:purpose" = "repository-master-key" is always present.
         */
        public Builder encryptionContext(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (key.startsWith("backupkit:")) {
                throw new ConfigurationException("encryption context keys starting with 'backupkit:' are reserved");
            }
            context.put(key, value);
            return this;
        }

        /** A KMS client to use (not closed by the provider); default: one built from region and the default chain. */
        public Builder kmsClient(KmsClient client) {
            this.kmsClient = client;
            return this;
        }

        /** Region of the KMS key when the provider builds its own client. */
        public Builder region(String region) {
            this.region = region;
            return this;
        }

        /** KMS endpoint (VPC endpoint, FIPS) when the provider builds its own client. */
        public Builder endpoint(URI endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        public AwsKmsKeyProvider build() {
            if (keyId == null) {
                throw new ConfigurationException("AWS KMS key provider needs a key id, ARN or alias");
            }
            return new AwsKmsKeyProvider(this);
        }
    }
}
