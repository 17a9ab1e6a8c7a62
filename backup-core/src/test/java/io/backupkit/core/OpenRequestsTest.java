package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opening a repository reads its config and lists its key slots: every way through needs both, so both
 * requests are sent at once (one round trip on S3 instead of two in series). Failures are reported as
 * they were when the two were sent one after the other.
 */
class OpenRequestsTest {
    @TempDir
    Path dir;

    @Test
    void configReadAndKeySlotListing_areInFlightTogether() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        Repos.encrypted(storage).create().close();
        CountDownLatch listing = new CountDownLatch(1);
        storage.beforeList(prefix -> {
            if (prefix.equals("keys/")) {
                listing.countDown();
            }
        });
        // the config read waits until the key slots are being listed: sent in series, it would wait in vain
        storage.beforeGet(name -> {
            if (name.equals("config")) {
                InterceptingStorage.awaitInHook(listing, "keys/ was not listed while the config was read");
            }
        });
        try (Repository repo = Repos.encrypted(storage).open()) {
            assertEquals(1, repo.keys().list().size());
        }
        assertEquals(0, listing.getCount());
    }

    @Test
    void aFailingKeySlotListing_isReportedAsItWasThrown() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        Repos.encrypted(storage).create().close();
        StorageException down = new StorageException("listing keys/ failed: connection reset", true);
        storage.beforeList(prefix -> {
            if (prefix.equals("keys/")) {
                throw down;
            }
        });
        assertSame(down, assertThrows(StorageException.class, () -> Repos.encrypted(storage).open()));
    }

    @Test
    void aMissingConfig_withKeySlots_isStillExplained() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        Repos.encrypted(storage).create().close();
        storage.delete("config");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Repos.encrypted(storage).open());
        assertTrue(e.getMessage().contains("there is no config object, but keys/ holds 1 key slot(s)"), e.getMessage());
    }

    @Test
    void aFailingConfigRead_isReported_andTheListingHasEndedBeforeOpenReturns() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        Repos.encrypted(storage).create().close();
        StorageException down = new StorageException("reading config failed: connection reset", true);
        CountDownLatch listed = new CountDownLatch(1);
        storage.beforeGet(name -> {
            if (name.equals("config")) {
                throw down;
            }
        });
        storage.beforeList(prefix -> {
            try {
                // a slow listing: open must not return (and let the caller close the storage) before it ends
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            listed.countDown();
        });
        assertSame(down, assertThrows(StorageException.class, () -> Repos.encrypted(storage).open()));
        assertEquals(0, listed.getCount(), "the key slot listing was still running when open failed");
    }
}
