package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Argon2Limits;
import io.backupkit.spi.KeySlot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key slot parameters come from storage and are untrusted: out-of-range or malformed ones make that
 * slot unusable (with a reason), never the whole open; new slots are never weaker than the floor.
 */
class KeySlotParametersTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"8192,1,1", "19455,2,1", "19456,1,1", "19456,2,0", "1048577,2,1", "19456,101,1"})
    void creatingAPasswordSlotOutsideTheLimits_isRefused(int memoryKiB, int iterations, int parallelism) {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> KeyProviders.password("pw".toCharArray(), memoryKiB, iterations, parallelism));
        assertTrue(e.getMessage().contains("Argon2id"), e.getMessage());
    }

    @Test
    void theOwaspFloor_isAccepted() {
        KeySlot slot = KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1).wrap(new byte[32]);
        assertEquals("19456", slot.parameters().get("memoryKiB"));
    }

    /** A valid password slot whose parameters are then replaced by {@code changes} (null removes). */
    private static KeySlot tampered(Map<String, String> changes) {
        KeySlot good = Repos.password(Repos.PASSWORD).wrap(Aead.randomBytes(32));
        Map<String, String> p = new HashMap<>(good.parameters());
        changes.forEach((k, v) -> {
            if (v == null) {
                p.remove(k);
            } else {
                p.put(k, v);
            }
        });
        return new KeySlot(good.type(), p, good.wrappedKey());
    }

    static Map<String, String> change(String key, String value) {
        Map<String, String> m = new HashMap<>();
        m.put(key, value);
        return m;
    }

    @ParameterizedTest
    @CsvSource(nullValues = "NULL", value = {
            "memoryKiB, abc", "memoryKiB, NULL", "memoryKiB, -1", "memoryKiB, 99999999999",
            "memoryKiB, 4194304", "memoryKiB, 2097152", "memoryKiB, 8",
            "iterations, 1", "iterations, 0", "iterations, 1000000", "iterations, ' 3'",
            "parallelism, 0", "parallelism, 65", "parallelism, 1.5",
            "salt, NULL", "salt, '!!not base64!!'", "salt, ''", "salt, AAEC",
            "kdf, NULL", "kdf, scrypt"})
    void badSlotParameters_skipThatSlot_andAnotherSlotStillOpens(String key, String value) {
        String good;
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            good = repo.keys().list().get(0).id();
        }
        String bad = Forge.writeSlot(dir, tampered(change(key, value)));
        // whichever slot is tried first
        for (boolean reversed : new boolean[] {false, true}) {
            HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
            if (reversed) {
                storage.reversedListing();
            }
            try (Repository repo = Repos.encrypted(storage).open()) {
                assertEquals(good, repo.keys().list().stream().filter(k -> k.current()).findFirst().orElseThrow().id());
            }
        }
        // alone, the bad slot is named with the reason, and the password still is not echoed
        LocalStorage.of(dir).delete("keys/" + good);
        KeyException e = assertThrows(KeyException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open());
        assertTrue(e.getMessage().contains(bad.substring(5, 17)) && e.getMessage().contains("skipped"), e.getMessage());
        assertTrue(!e.getMessage().contains(new String(Repos.PASSWORD)), e.getMessage());
    }

    /**
     * Memory and passes each within their caps, but their product (64 MiB × 100 passes) would make every
     * open spend seconds to minutes on this slot: it is skipped with a warning naming it, at no cost.
     */
    @Test
    void slotWhoseMemoryTimesPassesExceedsTheCap_isSkippedWithAWarningNamingIt_andTheOtherSlotOpens() {
        String good;
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            good = repo.keys().list().get(0).id();
        }
        Map<String, String> costly = change("memoryKiB", Integer.toString(64 * 1024));
        costly.put("iterations", "100");
        String bad = Forge.writeSlot(dir, tampered(costly));
        String badId = bad.substring(5, 17);
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream err = System.err;
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            // the costly slot is tried first
            HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
            storage.onList = l -> {
                List<io.backupkit.spi.ObjectInfo> r = new ArrayList<>(l);
                r.sort(java.util.Comparator.comparing((io.backupkit.spi.ObjectInfo o) -> !o.name().equals(bad)));
                return r;
            };
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofMinutes(2), () -> {
                try (Repository repo = Repos.encrypted(storage).open()) {
                    assertEquals(good, repo.keys().list().stream().filter(k -> k.current()).findFirst().orElseThrow().id());
                }
            });
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(log.lines().anyMatch(l -> l.contains("WARN") && l.contains(badId) && l.contains("KiB·passes")), log);
        // alone, it is named as skipped, with the reason
        LocalStorage.of(dir).delete("keys/" + good);
        KeyException e = assertThrows(KeyException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open());
        assertTrue(e.getMessage().contains(badId) && e.getMessage().contains("skipped") && e.getMessage().contains("KiB·passes"),
                e.getMessage());
        // and such a slot cannot be made either
        ConfigurationException refused = assertThrows(ConfigurationException.class,
                () -> KeyProviders.password("pw".toCharArray(), 64 * 1024, 100, 1));
        assertTrue(refused.getMessage().contains("KiB·passes"), refused.getMessage());
    }

    @Test
    void wrappedKeyThatIsNotBase64_skipsThatSlot() throws Exception {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.keys().list();
        }
        String json = "{\"version\":1,\"type\":\"password\",\"parameters\":{\"kdf\":\"argon2id\",\"memoryKiB\":\"19456\","
                + "\"iterations\":\"2\",\"parallelism\":\"1\",\"salt\":\"" + Base64.getEncoder().encodeToString(new byte[16])
                + "\"},\"wrapped\":\"%%%\",\"created\":\"2026-01-01T00:00:00Z\",\"host\":\"x\"}";
        Forge.writeAddressed(dir, "keys/", json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        for (boolean reversed : new boolean[] {false, true}) {
            HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
            if (reversed) {
                storage.reversedListing();
            }
            Repos.encrypted(storage).open().close();
        }
        assertTrue(Files.exists(dir.resolve("config")));
    }

    @Test
    void keyFileSlotWithoutSalt_skipsThatSlot() {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("k.key"));
        Path repoDir = dir.resolve("repo");
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create()) {
            repo.keys().list();
        }
        KeySlot good = KeyProviders.keyFile(keyFile).wrap(Aead.randomBytes(32));
        Map<String, String> p = new HashMap<>(good.parameters());
        p.remove("salt");
        Forge.writeSlot(repoDir, new KeySlot(good.type(), p, good.wrappedKey()));
        for (boolean reversed : new boolean[] {false, true}) {
            HookedStorage storage = new HookedStorage(LocalStorage.of(repoDir));
            if (reversed) {
                storage.reversedListing();
            }
            Repository.builder().storage(storage).keyFile(keyFile).open().close();
        }
    }

    @Test
    void slotNeedingMoreMemoryThanTheHeapAllows_isRefusedWithTheFix() {
        Map<String, String> gib = new HashMap<>(Repos.password(Repos.PASSWORD).wrap(new byte[32]).parameters());
        gib.put("memoryKiB", Integer.toString(1024 * 1024));
        KeyException e = assertThrows(KeyException.class, () -> Argon2Limits.fromSlot(gib, 512L << 20));
        assertTrue(e.getMessage().contains("-Xmx512m") && e.getMessage().contains("1024 MiB"), e.getMessage());
        // the fix names a heap that is enough, and how launcher users pass it
        long needed = Long.parseLong(e.getMessage().replaceAll("(?s).*BACKUPKIT_JAVA_OPTS=-Xmx(\\d+)m.*", "$1"));
        assertEquals(1024 * 1024, Argon2Limits.fromSlot(gib, needed << 20).memoryKiB(), e.getMessage());
        assertThrows(KeyException.class, () -> Argon2Limits.fromSlot(gib, (needed - 1) << 20));
        assertEquals(1024 * 1024, Argon2Limits.fromSlot(gib, 2L << 30).memoryKiB(), "a 2 GiB heap can spare 1 GiB");
        // the default slot (64 MiB) opens in the 256 MiB heap BoundedMemoryIT uses
        assertTrue(Argon2Limits.maxMemoryKiBForHeap(256L << 20) >= 64 * 1024);
    }
}
