package io.backupkit.s3;

import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole storage contract again, through a network path that fails 15 % of requests (503, resets
 * before and after the store acted, answers cut mid-body): the SDK's retries, write ids and resumed
 * reads must make the faults invisible to the caller.
 */
class S3StorageContractThroughFaultsIT extends StorageContractTest {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    static FaultInjectingProxy faulty;

    @BeforeAll
    static void startProxy() throws IOException {
        S3.start();
        faulty = new FaultInjectingProxy(S3.port(), 0.15, 15L);
    }

    @AfterAll
    static void stopProxy() throws IOException {
        System.out.printf("contract through faults: %d requests, %d faults%n", faulty.requests(), faulty.faults());
        assertTrue(faulty.faults() >= faulty.requests() / 10, faulty.faults() + " faults in " + faulty.requests() + " requests");
        faulty.close();
    }

    @Override
    protected Storage newStorage() {
        return S3.storage(S3.newBucket(), faulty.endpoint()).prefix("repo").partSize(S3Storage.MIN_PART_SIZE)
                .maxAttempts(10).build();
    }

    @Override
    protected int largeObjectSize() {
        return 3 * 5 * 1024 * 1024 + 12345;
    }
}
