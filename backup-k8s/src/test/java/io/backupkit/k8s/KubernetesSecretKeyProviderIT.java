package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;
import io.backupkit.Repository;
import io.backupkit.k8s.testing.FakeCluster;
import io.backupkit.spi.KeySlot;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Secret-backed key slot against the mock API server, with real repositories. */
class KubernetesSecretKeyProviderIT {
    private static FakeCluster k8s;
    @TempDir
    Path tmp;

    @BeforeAll
    static void cluster() {
        k8s = FakeCluster.start();
        k8s.addPod("backups", "placeholder", Map.of(), "c");
    }

    @AfterAll
    static void stop() {
        k8s.close();
    }

    @BeforeEach
    void reset() {
        k8s.allowAll();
    }

    private static KubernetesSecretKeyProvider provider(KubernetesClient c, String secret) {
        return KubernetesSecretKeyProvider.builder().client(c).namespace("backups").secret(secret).build();
    }

    @Test
    void init_createsTheSecret_andAnotherProcessOpensTheRepositoryWithIt() throws Exception {
        String location = tmp.resolve("repo").toString();
        try (Repository repo = Repository.builder().location(location).keyProvider(provider(k8s.client(), "shop-key")).create()) {
            assertEquals("k8s-secret", repo.keys().list().get(0).type());
        }
        Secret s = k8s.client().secrets().inNamespace("backups").withName("shop-key").get();
        byte[] material = Base64.getDecoder().decode(s.getData().get(KubernetesSecretKeyProvider.DEFAULT_KEY));
        assertEquals(32, material.length);
        assertTrue(s.getImmutable(), "an immutable Secret cannot be overwritten by accident");
        assertEquals("backupkit", s.getMetadata().getLabels().get("app.kubernetes.io/managed-by"));

        try (KubernetesClient other = k8s.newClient();
             Repository repo = Repository.builder().location(location).keyProvider(provider(other, "shop-key")).open()) {
            assertEquals(1, repo.keys().list().size());
        }
        // the key material is nowhere in the repository (only the Secret's name is)
        String b64 = s.getData().get(KubernetesSecretKeyProvider.DEFAULT_KEY);
        try (Stream<Path> files = Files.walk(Path.of(location))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] content = Files.readAllBytes(f);
                assertFalse(new String(content, java.nio.charset.StandardCharsets.ISO_8859_1).contains(b64), f.toString());
                assertFalse(indexOf(content, material) >= 0, f.toString());
            }
        }
        assertFalse(provider(k8s.client(), "shop-key").toString().contains(b64));
    }

    @Test
    void existingSecret_isReused_neverOverwritten() {
        byte[] material = new byte[32];
        new java.util.Random(7).nextBytes(material);
        String b64 = Base64.getEncoder().encodeToString(material);
        k8s.client().secrets().inNamespace("backups").resource(new SecretBuilder().withNewMetadata().withName("given-key").endMetadata()
                .addToData(KubernetesSecretKeyProvider.DEFAULT_KEY, b64).addToData("other", "eA==").build()).create();
        try (Repository repo = Repository.builder().location(tmp.resolve("r").toString()).keyProvider(provider(k8s.client(), "given-key"))
                .create()) {
            assertEquals(1, repo.keys().list().size());
        }
        Secret s = k8s.client().secrets().inNamespace("backups").withName("given-key").get();
        assertEquals(b64, s.getData().get(KubernetesSecretKeyProvider.DEFAULT_KEY));
        assertEquals("eA==", s.getData().get("other"));
    }

    @Test
    void secretWithOtherKeyMaterial_doesNotOpen() {
        String location = tmp.resolve("r").toString();
        try (Repository repo = Repository.builder().location(location).keyProvider(provider(k8s.client(), "swapped")).create()) {
            assertEquals(1, repo.keys().list().size());
        }
        Secret s = k8s.client().secrets().inNamespace("backups").withName("swapped").get();
        byte[] other = new byte[32];
        Map<String, String> data = new HashMap<>(s.getData());
        data.put(KubernetesSecretKeyProvider.DEFAULT_KEY, Base64.getEncoder().encodeToString(other));
        k8s.client().secrets().inNamespace("backups").withName("swapped").delete();
        k8s.client().secrets().inNamespace("backups").resource(new SecretBuilder().withNewMetadata().withName("swapped").endMetadata()
                .withData(data).build()).create();
        assertThrows(KeyException.class, () -> Repository.builder().location(location).keyProvider(provider(k8s.client(), "swapped")).open());
    }

    @Test
    void deletedSecret_saysTheKeyIsGone_andWhatToDo() {
        String location = tmp.resolve("r").toString();
        try (Repository repo = Repository.builder().location(location).keyProvider(provider(k8s.client(), "deleted")).create()) {
            repo.keys().add(io.backupkit.KeyProviders.password("fallback".toCharArray()));
        }
        k8s.client().secrets().inNamespace("backups").withName("deleted").delete();
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Repository.builder().location(location).keyProvider(provider(k8s.client(), "deleted")).open());
        assertTrue(e.getMessage().startsWith("secret deleted not found in namespace backups: the key of this repository's k8s-secret slot "
                + "is gone"), e.getMessage());
        // the other slot still opens it
        try (Repository repo = Repository.builder().location(location).password("fallback".toCharArray()).open()) {
            assertEquals(2, repo.keys().list().size());
        }
    }

    @Test
    void slotPointedAtAnotherSecret_doesNotOpen_evenWithTheSameMaterial() {
        KubernetesSecretKeyProvider a = provider(k8s.client(), "slot-a");
        byte[] master = new byte[32];
        new java.util.Random(1).nextBytes(master);
        KeySlot slot = a.wrap(master);
        assertArrayEquals(master, a.unwrap(slot).orElseThrow());
        String material = k8s.client().secrets().inNamespace("backups").withName("slot-a").get().getData()
                .get(KubernetesSecretKeyProvider.DEFAULT_KEY);
        k8s.client().secrets().inNamespace("backups").resource(new SecretBuilder().withNewMetadata().withName("slot-b").endMetadata()
                .addToData(KubernetesSecretKeyProvider.DEFAULT_KEY, material).build()).create();
        Map<String, String> params = new HashMap<>(slot.parameters());
        params.put("secret", "slot-b");
        KeySlot moved = new KeySlot(slot.type(), params, slot.wrappedKey());
        assertTrue(provider(k8s.client(), "slot-b").unwrap(moved).isEmpty(), "the slot's parameters are authenticated");
        assertTrue(provider(k8s.client(), "slot-b").unwrap(slot).isEmpty(), "a slot of another Secret is not this provider's");
    }

    @Test
    void rbacDeniedCreatingTheSecret_namesVerbAndResource_andNoRepositoryIsCreated() {
        k8s.deny("create", "secrets", "backups");
        String location = tmp.resolve("denied").toString();
        KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class,
                () -> Repository.builder().location(location).keyProvider(provider(k8s.client(), "denied-key")).create());
        assertEquals("create", e.verb());
        assertEquals("secrets", e.resource());
        assertTrue(e.getMessage().startsWith("Kubernetes RBAC denied create on secrets in namespace backups (secret denied-key)"),
                e.getMessage());
        k8s.allowAll();
        assertThrows(ConfigurationException.class, () -> Repository.builder().location(location).password("x".toCharArray()).open(),
                "no half-made repository was left behind");
    }

    /**
     * Every path of the provider (Secret missing: create; Secret made by the user without the key: update;
     * opening: get) uses only verbs the documented Role grants, and each of them is needed.
     */
    @Test
    void everyVerbTheProviderUsesOnSecrets_isInTheDocumentedRule() throws Exception {
        int from = k8s.requests().size();
        k8s.client().secrets().inNamespace("backups").resource(new SecretBuilder().withNewMetadata().withName("made-by-user")
                .endMetadata().addToData("unrelated", "eA==").build()).create();
        int userRequests = k8s.requests().size();
        String first = tmp.resolve("first").toString();
        String second = tmp.resolve("second").toString();
        Repository.builder().location(first).keyProvider(provider(k8s.client(), "made-by-backupkit")).create().close();
        Repository.builder().location(second).keyProvider(provider(k8s.client(), "made-by-user")).create().close();
        Repository.builder().location(second).keyProvider(provider(k8s.client(), "made-by-user")).open().close();
        java.util.Set<String> used = new java.util.TreeSet<>();
        java.util.List<String> requests = k8s.requests();
        for (int i = from; i < requests.size(); i++) {
            if (i >= from && i < userRequests) {
                continue; // the test's own create
            }
            String[] r = requests.get(i).split(" ", 2);
            if (r[1].matches("/api/v1/namespaces/backups/secrets(/[^/?]+)?(\\?.*)?")) {
                boolean named = r[1].matches("/api/v1/namespaces/backups/secrets/[^/?]+(\\?.*)?");
                used.add(switch (r[0]) {
                    case "GET" -> named ? "get" : "list";
                    case "POST" -> "create";
                    case "PUT" -> "update";
                    case "PATCH" -> "patch";
                    case "DELETE" -> "delete";
                    default -> r[0];
                });
            }
        }
        assertEquals(ManifestsTest.documentedVerbs("KubernetesSecretKeyProvider"), used,
                "docs/kubernetes.md's rule for KubernetesSecretKeyProvider and the verbs it uses");
        assertTrue(k8s.client().secrets().inNamespace("backups").withName("made-by-user").get().getData()
                .containsKey(KubernetesSecretKeyProvider.DEFAULT_KEY), "the key was added to the user's Secret");

        // without update, a Secret made without the key cannot be used, and the denial names the verb
        k8s.client().secrets().inNamespace("backups").resource(new SecretBuilder().withNewMetadata().withName("no-update")
                .endMetadata().addToData("unrelated", "eA==").build()).create();
        k8s.deny("update", "secrets", "backups");
        KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class,
                () -> Repository.builder().location(tmp.resolve("third").toString()).keyProvider(provider(k8s.client(), "no-update"))
                        .create());
        assertEquals("update", e.verb());
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
