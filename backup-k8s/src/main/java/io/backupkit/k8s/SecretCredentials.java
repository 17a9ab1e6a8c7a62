package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.KubernetesErrors;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * Database credentials read from a Kubernetes Secret, by default its {@code username} and
 * {@code password} keys (what CloudNativePG's {@code <cluster>-app} and the Zalando operator's
 * {@code <user>.<cluster>.credentials…} Secrets hold). The password is never printed.
 *
 * <pre>{@code
 * SecretCredentials c = SecretCredentials.read(client, "shop", "shop-app");
 * PostgresSource.builder().url(url).user(c.user()).password(c.password()).build();
 * }</pre>
 *
 * <p>Needs RBAC {@code get} on {@code secrets} (ideally restricted by resourceNames to this Secret).
 */
public final class SecretCredentials {
    /** The default key of the user name. */
    public static final String USERNAME_KEY = "username";
    /** The default key of the password. */
    public static final String PASSWORD_KEY = "password";

    private final String secret;
    private final String user;
    private final char[] password;

    private SecretCredentials(String secret, String user, char[] password) {
        this.secret = secret;
        this.user = user;
        this.password = password;
    }

    /** Reads the {@code username} and {@code password} keys of Secret {@code name}. */
    public static SecretCredentials read(KubernetesClient client, String namespace, String name) {
        return read(client, namespace, name, USERNAME_KEY, PASSWORD_KEY);
    }

    /**
     * Reads two keys of Secret {@code name}; the user key may be missing (then {@link #user()} is null).
     *
     * @throws ConfigurationException          when the Secret or its password key does not exist
     * @throws KubernetesAccessDeniedException when RBAC forbids reading it
     */
    public static SecretCredentials read(KubernetesClient client, String namespace, String name, String userKey, String passwordKey) {
        Secret s;
        try {
            s = client.secrets().inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "get", "secrets", namespace, "secret " + name);
        }
        if (s == null) {
            throw new ConfigurationException("secret " + name + " not found in namespace " + namespace);
        }
        Map<String, String> data = s.getData() == null ? Map.of() : s.getData();
        Map<String, String> plain = s.getStringData() == null ? Map.of() : s.getStringData();
        char[] password = value(data, plain, passwordKey, name);
        if (password == null) {
            throw new ConfigurationException("secret " + name + " in namespace " + namespace + " has no key '" + passwordKey
                    + "' (its keys: " + new java.util.TreeSet<>(data.keySet()) + ")");
        }
        char[] user = value(data, plain, userKey, name);
        return new SecretCredentials(name, user == null ? null : new String(user), password);
    }

    private static char[] value(Map<String, String> data, Map<String, String> plain, String key, String secret) {
        if (plain.containsKey(key)) {
            return plain.get(key).toCharArray();
        }
        String b64 = data.get(key);
        if (b64 == null) {
            return null;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(b64.strip());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("key '" + key + "' of secret " + secret + " is not base64");
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            char[] out = new char[chars.remaining()];
            chars.get(out);
            Arrays.fill(chars.array(), '\0');
            return out;
        } catch (CharacterCodingException e) {
            throw new ConfigurationException("key '" + key + "' of secret " + secret + " is not UTF-8 text");
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /** The user name, or null when the Secret has none. */
    public String user() {
        return user;
    }

    /** A copy of the password; wipe it when done. */
    public char[] password() {
        return password.clone();
    }

    @Override
    public String toString() {
        return "SecretCredentials[secret " + secret + ", user " + user + "]";
    }
}
