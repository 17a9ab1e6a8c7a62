package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.KubernetesErrors;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Key slot type {@code k8s-secret}: the repository master key wrapped (AES-256-GCM) by 32 random
 * bytes that live in a Kubernetes Secret. The first {@link #wrap} (repository init, or adding the
 * slot) creates the Secret, marked immutable, if it does not exist; an existing key is reused, never
 * overwritten. The key material is read when a slot is opened and never logged, printed or
 * copied anywhere else; the slot records only the namespace, Secret and key names.
 *
 * <pre>{@code
 * KeyProvider key = KubernetesSecretKeyProvider.builder().namespace("backups").secret("shop-backup-key").build();
 * Repository repo = Repository.builder().location("s3://acme-backups/shop").keyProvider(key).openOrCreate();
 * }</pre>
 *
 * <p>Needs RBAC {@code get} on the Secret, and {@code create} on {@code secrets} for the first
 * wrap. Whoever can read the Secret can open the repository: keep it in a namespace only the backup
 * job's service account reads, and keep a copy outside the cluster (losing it loses the repository
 * unless another slot, such as a password, opens it).
 */
public final class KubernetesSecretKeyProvider implements KeyProvider, AutoCloseable {
    /** The slot type. */
    public static final String TYPE = "k8s-secret";
    /** The default key in the Secret's data. */
    public static final String DEFAULT_KEY = "backupkit-repository-key";
    private static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    private static final int KEY_BYTES = 32;
    private static final int NONCE = 12;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String secret;
    private final String key;

    private KubernetesSecretKeyProvider(Builder b) {
        if (b.namespace == null || b.secret == null) {
            throw new ConfigurationException("KubernetesSecretKeyProvider needs a namespace and a secret name");
        }
        this.ownsClient = b.client == null;
        this.client = b.client != null ? b.client : new KubernetesClientBuilder().build();
        this.namespace = b.namespace;
        this.secret = b.secret;
        this.key = b.key;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public String describe() {
        return "Kubernetes secret " + namespace + "/" + secret + " (key " + key + ")";
    }

    @Override
    public String toString() {
        return "KubernetesSecretKeyProvider[" + describe() + "]";
    }

    private Map<String, String> parameters() {
        Map<String, String> p = new TreeMap<>();
        p.put("namespace", namespace);
        p.put("secret", secret);
        p.put("key", key);
        p.put("cipher", "aes-256-gcm");
        return p;
    }

    /** The slot parameters are authenticated with the wrapped key: a slot cannot be pointed at another Secret. */
    private static byte[] associatedData(Map<String, String> parameters) {
        return ("backupkit key slot v1 " + TYPE + " " + new TreeMap<>(parameters)).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public KeySlot wrap(byte[] masterKey) {
        byte[] kek = material(true);
        try {
            Map<String, String> p = parameters();
            return new KeySlot(TYPE, p, seal(kek, masterKey, associatedData(p)));
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    @Override
    public Optional<byte[]> unwrap(KeySlot slot) {
        if (!TYPE.equals(slot.type())) {
            return Optional.empty();
        }
        Map<String, String> p = slot.parameters();
        if (!namespace.equals(p.get("namespace")) || !secret.equals(p.get("secret")) || !key.equals(p.get("key"))) {
            return Optional.empty(); // a slot of another Secret
        }
        byte[] kek = material(false);
        try {
            return open(kek, slot.wrappedKey(), associatedData(p));
        } finally {
            Arrays.fill(kek, (byte) 0);
        }
    }

    /** The key material from the Secret; with {@code create}, makes the Secret (or the key in it) when missing. */
    private byte[] material(boolean create) {
        for (int attempt = 0; attempt < 5; attempt++) {
            Secret s = get();
            if (s != null && s.getData() != null && s.getData().containsKey(key)) {
                return decode(s.getData().get(key));
            }
            if (!create) {
                throw new ConfigurationException(s == null
                        ? "secret " + secret + " not found in namespace " + namespace + ": the key of this repository's "
                        + TYPE + " slot is gone; open the repository with another slot (password, key file) and add a new one"
                        : "secret " + secret + " in namespace " + namespace + " has no key '" + key + "'");
            }
            byte[] fresh = new byte[KEY_BYTES];
            RANDOM.nextBytes(fresh);
            String encoded = Base64.getEncoder().encodeToString(fresh);
            Arrays.fill(fresh, (byte) 0);
            try {
                if (s == null) {
                    client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                            .withNewMetadata().withName(secret).withNamespace(namespace).addToLabels(MANAGED_BY, "backupkit")
                            .addToAnnotations("backupkit.io/purpose", "repository key; losing it loses the repository unless another slot opens it")
                            .endMetadata()
                            .withType("Opaque").withImmutable(true).addToData(key, encoded).build()).create();
                } else if (Boolean.TRUE.equals(s.getImmutable())) {
                    throw new ConfigurationException("secret " + secret + " in namespace " + namespace + " is immutable and has no key '" + key
                            + "': use another key name or another secret");
                } else {
                    Map<String, String> data = s.getData() == null ? new HashMap<>() : new HashMap<>(s.getData());
                    data.put(key, encoded);
                    s.setData(data);
                    // optimistic: fails with 409 if someone else changed the Secret meanwhile, then we read again
                    client.secrets().inNamespace(namespace).resource(s).update();
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    continue; // created or changed concurrently: read what won
                }
                throw KubernetesErrors.translate(e, s == null ? "create" : "update", "secrets", namespace, "secret " + secret);
            }
        }
        throw new ConfigurationException("secret " + secret + " in namespace " + namespace + " keeps changing; try again");
    }

    private Secret get() {
        try {
            return client.secrets().inNamespace(namespace).withName(secret).get();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "get", "secrets", namespace, "secret " + secret);
        }
    }

    private byte[] decode(String b64) {
        byte[] m;
        try {
            m = Base64.getDecoder().decode(b64.strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("key '" + key + "' of secret " + namespace + "/" + secret + " is not base64");
        }
        if (m.length != KEY_BYTES) {
            int n = m.length;
            Arrays.fill(m, (byte) 0);
            throw new ConfigurationException("key '" + key + "' of secret " + namespace + "/" + secret + " holds " + n
                    + " bytes; a " + TYPE + " key is " + KEY_BYTES + " random bytes");
        }
        return m;
    }

    private static byte[] seal(byte[] kek, byte[] plain, byte[] ad) {
        try {
            byte[] nonce = new byte[NONCE];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(ad);
            byte[] ct = c.doFinal(plain);
            byte[] out = new byte[NONCE + ct.length];
            System.arraycopy(nonce, 0, out, 0, NONCE);
            System.arraycopy(ct, 0, out, NONCE, ct.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM not available", e);
        }
    }

    private static Optional<byte[]> open(byte[] kek, byte[] sealed, byte[] ad) {
        if (sealed.length < NONCE + 16) {
            return Optional.empty();
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, sealed, 0, NONCE));
            c.updateAAD(ad);
            return Optional.of(c.doFinal(sealed, NONCE, sealed.length - NONCE));
        } catch (AEADBadTagException e) {
            return Optional.empty();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM not available", e);
        }
    }

    /** Closes the Kubernetes client if this provider created it. */
    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    /** Configures a {@link KubernetesSecretKeyProvider}. Not thread-safe. */
    public static final class Builder {
        private KubernetesClient client;
        private String namespace;
        private String secret;
        private String key = DEFAULT_KEY;

        private Builder() {
        }

        /** The client (never closed by the provider); default: one from kubeconfig or the service account. */
        public Builder client(KubernetesClient client) {
            this.client = client;
            return this;
        }

        public Builder namespace(String namespace) {
            this.namespace = Objects.requireNonNull(namespace, "namespace");
            return this;
        }

        /** The Secret's name. */
        public Builder secret(String name) {
            this.secret = Objects.requireNonNull(name, "secret");
            return this;
        }

        /** The key in the Secret's data (default {@value #DEFAULT_KEY}). */
        public Builder key(String key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        public KubernetesSecretKeyProvider build() {
            return new KubernetesSecretKeyProvider(this);
        }
    }
}
