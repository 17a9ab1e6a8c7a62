package io.backupkit.examples;

import io.backupkit.Storages;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example plug-in passes the same contract as the built-in storages, and is found by its scheme. */
class InMemoryStorageTest extends StorageContractTest {
    @Override
    protected Storage newStorage() {
        return new InMemoryStorage("contract-" + UUID.randomUUID());
    }

    @Test
    void memLocations_areOpenedThroughServiceLoader_andShareObjectsByName() {
        Storage a = Storages.open("mem://shared-" + getClass().getSimpleName());
        Storage b = Storages.open("mem://shared-" + getClass().getSimpleName());
        assertTrue(a instanceof InMemoryStorage, a.getClass().getName());
        assertSame(a, b);
        a.putIfAbsent("config", Payload.of(new byte[] {1, 2, 3}));
        assertEquals(3, b.stat("config").orElseThrow().size());
    }
}
