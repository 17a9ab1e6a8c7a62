package io.backupkit.s3;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyException;
import io.backupkit.KeySlotInfo;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestoreResult;
import io.backupkit.spi.ObjectInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole repositories on S3: backup → restore of generated streams through a network path that fails
 * 15 % of requests, an {@code s3://} location opened through ServiceLoader, and KMS key rotation.
 *
 * <p>A PostgreSQL backup → restore through S3 (issue 4, acceptance 2) is {@link S3EngineContractIT} and
 * {@link S3EngineContractThroughFaultsIT}.
 */
class S3RepositoryIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    static FaultInjectingProxy faulty;

    @BeforeAll
    static void startProxy() throws IOException {
        S3.start();
        faulty = new FaultInjectingProxy(S3.port(), 0.15, 4242L);
    }

    @AfterAll
    static void stopProxy() throws IOException {
        if (faulty != null) {
            faulty.close();
        }
    }

    @Test
    void backupAndRestore_throughFaultyNetwork_restoreExactBytes_andListOnlyWholeObjects() throws IOException {
        String bucket = S3.newBucket();
        GeneratedStreams streams = new GeneratedStreams()
                .stream("table-orders", 40L << 20, 1)
                .stream("table-customers", 7L << 20, 2)
                .stream("schema", 12_345, 3);
        int requestsBefore = faulty.requests();
        int faultsBefore = faulty.faults();
        try (S3Storage storage = S3.storage(bucket, faulty.endpoint()).prefix("repo").partSize(S3Storage.MIN_PART_SIZE)
                .maxConcurrency(4).maxAttempts(10).build();
             Repository repo = Repository.builder().storage(storage).password("correct horse".toCharArray())
                     .packSize(16 << 20).create()) {
            BackupResult backup = BackupManager.builder().repository(repo).source(streams.source()).parallelism(2).build().backup();
            assertEquals(streams.totalBytes(), backup.bytesRead());

            RestoreResult restore = RestoreManager.builder().repository(repo).snapshot("latest").target(streams.target())
                    .parallelism(2).build().restore();
            assertEquals(Map.of("table-orders", 40L << 20, "table-customers", 7L << 20, "schema", 12_345L), streams.restored());
            assertEquals(backup.snapshotId(), restore.snapshotId());
            assertTrue(repo.check().ok(), repo.check().errors().toString());

            // a second backup of the same data stores (almost) nothing new, also through faults
            BackupResult again = BackupManager.builder().repository(repo).source(streams.source()).build().backup();
            assertTrue(again.bytesStored() < backup.bytesStored() / 10, again.bytesStored() + " of " + backup.bytesStored());
        }
        try (S3Storage direct = S3.storage(bucket).prefix("repo").build()) {
            List<ObjectInfo> all = direct.list("");
            assertTrue(all.stream().anyMatch(o -> o.name().startsWith("data/")));
            assertTrue(all.stream().anyMatch(o -> o.name().startsWith("snapshots/")));
            for (ObjectInfo o : all) {
                try (InputStream in = direct.get(o.name())) {
                    assertEquals(o.size(), in.transferTo(java.io.OutputStream.nullOutputStream()), "whole object " + o.name());
                }
            }
        }
        int requests = faulty.requests() - requestsBefore;
        int faults = faulty.faults() - faultsBefore;
        System.out.printf("repository through fault proxy: %d requests, %d faults%n", requests, faults);
        assertTrue(faults >= requests / 10, faults + " faults in " + requests + " requests");
    }

    @Test
    void s3Location_opensThroughServiceLoader_withDefaultCredentialChain() {
        String bucket = S3.newBucket();
        String location = "s3://" + bucket + "/shop?region=us-east-1&endpoint=" + S3.endpoint() + "&path-style=true";
        Map<String, String> old = SystemProperties.of(List.of("aws.accessKeyId", "aws.secretAccessKey"));
        System.setProperty("aws.accessKeyId", S3.accessKey());
        System.setProperty("aws.secretAccessKey", S3.secretKey());
        try {
            GeneratedStreams streams = new GeneratedStreams().stream("only", 3L << 20, 9);
            try (Repository repo = Repository.builder().location(location).password("pw".toCharArray()).openOrCreate()) {
                assertFalse(repo.location().contains(S3.secretKey()));
                BackupManager.builder().repository(repo).source(streams.source()).build().backup();
            }
            try (Repository repo = Repository.builder().location(location).password("pw".toCharArray()).open()) {
                RestoreManager.builder().repository(repo).target(streams.target()).build().restore();
                assertEquals(Map.of("only", 3L << 20), streams.restored());
            }
        } finally {
            SystemProperties.restore(old);
        }
    }

    @Test
    void kmsKeyRotation_isAddThenRemove_andDataStaysReadable() {
        InMemoryKmsClientDouble kms = new InMemoryKmsClientDouble();
        AwsKmsKeyProvider oldKey = AwsKmsKeyProvider.builder().keyId(kms.newKey()).kmsClient(kms).build();
        AwsKmsKeyProvider newKey = AwsKmsKeyProvider.builder().keyId(kms.newKey()).kmsClient(kms).build();
        GeneratedStreams streams = new GeneratedStreams().stream("s", 2L << 20, 5);
        try (S3Storage storage = S3.storage(S3.newBucket()).build()) {
            try (Repository repo = Repository.builder().storage(storage).keyProvider(oldKey).create()) {
                BackupManager.builder().repository(repo).source(streams.source()).build().backup();
                String oldSlot = repo.keys().list().get(0).id();
                KeySlotInfo added = repo.keys().add(newKey);
                assertEquals("aws-kms", added.type());
                repo.keys().remove(oldSlot);
                assertEquals(1, repo.keys().list().size());
            }
            try (Repository repo = Repository.builder().storage(storage).keyProvider(newKey).open()) {
                RestoreManager.builder().repository(repo).target(streams.target()).build().restore();
                assertEquals(Map.of("s", 2L << 20), streams.restored());
            }
            assertThrows(KeyException.class, () -> Repository.builder().storage(storage).keyProvider(oldKey).open().close(),
                    "the retired KMS key opens nothing any more");
        }
    }
}
