package io.backupkit.storage;

import io.backupkit.LocalStorage;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalStorageTest extends StorageContractTest {
    @TempDir
    Path dir;

    @Override
    protected Storage newStorage() {
        return LocalStorage.of(dir.resolve("repo"));
    }

    @Test
    void leftoverTempFiles_areNotListed() throws Exception {
        storage.putIfAbsent("data/00/p", Payload.of(new byte[]{1, 2, 3}));
        Files.write(dir.resolve("repo/data/00/.tmp-crashed"), new byte[]{9});
        assertEquals(1, storage.list("data/").size());
        assertTrue(storage.stat("data/00/p").isPresent());
    }
}
