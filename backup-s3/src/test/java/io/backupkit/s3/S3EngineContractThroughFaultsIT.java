package io.backupkit.s3;

import io.backupkit.Repository;
import io.backupkit.postgres.EngineContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 4, acceptances 2 and 4 together: PostgreSQL backup → restore → verify with the repository on
 * S3 behind a network path that fails 15 % of requests.
 */
class S3EngineContractThroughFaultsIT extends EngineContractTest {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final List<S3Storage> STORAGES = new CopyOnWriteArrayList<>();
    static FaultInjectingProxy faulty;

    @BeforeAll
    static void startProxy() throws IOException {
        S3.start();
        faulty = new FaultInjectingProxy(S3.port(), 0.15, 2026L);
    }

    @Override
    protected Repository openRepository() {
        S3Storage storage = S3.storage(S3.newBucket(), faulty.endpoint()).prefix("pg").partSize(S3Storage.MIN_PART_SIZE)
                .maxAttempts(10).build();
        STORAGES.add(storage);
        return Repository.builder().storage(storage).password("contract-test".toCharArray()).openOrCreate();
    }

    @AfterAll
    static void closeAll() throws IOException {
        STORAGES.forEach(S3Storage::close);
        System.out.printf("engine contract through faults: %d requests, %d faults%n", faulty.requests(), faulty.faults());
        assertTrue(faulty.faults() >= faulty.requests() / 10, faulty.faults() + " faults in " + faulty.requests() + " requests");
        faulty.close();
    }
}
