package io.backupkit.s3;

import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.extension.RegisterExtension;

/** backup-core's storage contract against a real S3 endpoint (S3Proxy), with multipart for large objects. */
class S3StorageContractIT extends StorageContractTest {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();

    @Override
    protected Storage newStorage() {
        // a fresh bucket and a prefix, so listing must strip the prefix and ignore other repositories
        return S3.storage(S3.newBucket()).prefix("repo/one").partSize(S3Storage.MIN_PART_SIZE).maxConcurrency(4).build();
    }

    @Override
    protected int largeObjectSize() {
        return 3 * 5 * 1024 * 1024 + 12345; // four 5 MiB parts
    }
}
