package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyRequiredException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opening an encrypted repository without any key says so with a type a caller can act on (ask for a password). */
class KeyRequiredTest {
    @TempDir
    Path dir;

    @Test
    void openingAnEncryptedRepositoryWithoutAKey_throwsKeyRequired_namingTheLocation() {
        Repos.encrypted(LocalStorage.of(dir)).create().close();
        KeyRequiredException e = assertThrows(KeyRequiredException.class,
                () -> Repository.builder().storage(LocalStorage.of(dir)).open());
        assertEquals(LocalStorage.of(dir).location(), e.location());
        assertTrue(e instanceof ConfigurationException, "still a configuration error for callers that only know that");
        assertTrue(e.getMessage().contains("is encrypted"), e.getMessage());
    }
}
