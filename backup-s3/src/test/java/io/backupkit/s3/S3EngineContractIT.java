package io.backupkit.s3;

import io.backupkit.Repository;
import io.backupkit.postgres.EngineContractTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Issue 4, acceptance 2: the PostgreSQL engine contract (a real database backed up through the whole
 * pipeline, restored into a new database and compared; verification at every level) with the
 * repository on S3 (S3Proxy). Multipart is on: 5 MiB parts.
 */
class S3EngineContractIT extends EngineContractTest {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final List<S3Storage> STORAGES = new CopyOnWriteArrayList<>();

    @Override
    protected Repository openRepository() {
        S3Storage storage = S3.storage(S3.newBucket()).prefix("pg").partSize(S3Storage.MIN_PART_SIZE).build();
        STORAGES.add(storage);
        return Repository.builder().storage(storage).password("contract-test".toCharArray()).openOrCreate();
    }

    @AfterAll
    static void closeStorages() {
        STORAGES.forEach(S3Storage::close);
    }
}
