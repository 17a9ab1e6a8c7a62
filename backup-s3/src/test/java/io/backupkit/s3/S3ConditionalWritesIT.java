package io.backupkit.s3;

import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.ObjectInfo;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Conditional writes: probed once per storage (the same probe key written twice must be refused);
 * S3Proxy honours If-None-Match, and S3Proxy without signature checks behind the fault proxy dropping
 * the header plays a store that ignores it. Also the HEAD-before-PUT mode and the fallback on 501.
 */
class S3ConditionalWritesIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    /** The header is signed: only a store that checks no signatures lets the proxy drop it. */
    @RegisterExtension
    static final S3ProxyFixture UNSIGNED = new S3ProxyFixture().withoutAuthentication();
    private static final int PART = (int) S3Storage.MIN_PART_SIZE;

    @Test
    void headBeforePut_neverSendsTheCondition_andStillRefusesExistingNames() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).partSize(PART).conditionalWrites(ConditionalWrites.HEAD_BEFORE_PUT)
                .executionInterceptor(rec).build()) {
            byte[] first = {1, 2, 3};
            assertTrue(storage.putIfAbsent("snapshots/s", Payload.of(first)));
            assertFalse(storage.putIfAbsent("snapshots/s", Payload.of(new byte[]{9})));
            assertTrue(storage.putIfAbsent("data/00/big", Payload.of(new byte[2 * PART + 1])));
            assertFalse(storage.putIfAbsent("data/00/big", Payload.of(new byte[2 * PART + 2])));
            assertArrayEquals(first, storage.readAll("snapshots/s"));
            assertTrue(rec.sent().stream().noneMatch(s -> s.header("if-none-match").isPresent()));
            assertTrue(rec.sent("HeadObject").size() >= 4, "asked before each write");
        }
    }

    @Test
    void storeAnswering501_switchesToHeadBeforePut() throws IOException {
        String bucket = S3.newBucket();
        try (FaultInjectingProxy old = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(bucket, old.endpoint()).partSize(PART).build()) {
            old.rejectConditionalWrites(true);
            byte[] first = {4, 5, 6};
            assertTrue(storage.putIfAbsent("index/i", Payload.of(first)));
            assertFalse(storage.putIfAbsent("index/i", Payload.of(new byte[]{7})));
            assertTrue(storage.putIfAbsent("data/01/big", Payload.of(new byte[2 * PART + 1])));
            assertArrayEquals(first, storage.readAll("index/i"));
        }
    }

    @Test
    void storeHonouringIfNoneMatch_isProbedOnce_andGrantsExclusiveLocks() {
        RecordingInterceptor rec = new RecordingInterceptor();
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).serverSideEncryptionS3().executionInterceptor(rec).build()) {
            assertTrue(storage.atomicPutIfAbsent());
            assertTrue(storage.putIfAbsent("misc/a", Payload.of(new byte[]{1})));
            assertFalse(storage.putIfAbsent("misc/a", Payload.of(new byte[]{2})));
            assertTrue(storage.atomicPutIfAbsent());
            List<RecordingInterceptor.Sent> probes = rec.probes();
            assertEquals(List.of("PutObject", "PutObject", "DeleteObject"), probes.stream().map(RecordingInterceptor.Sent::operation).toList(),
                    "one probe per storage: the same key twice, then removed");
            for (RecordingInterceptor.Sent put : probes.subList(0, 2)) {
                assertEquals("*", put.header("if-none-match").orElseThrow());
                assertEquals("AES256", put.header("x-amz-server-side-encryption").orElseThrow(), "bucket policies may demand SSE");
                assertFalse(put.header("x-amz-object-lock-mode").isPresent(), "the probe must stay deletable");
            }
            assertEquals(List.of("misc/a"), storage.list("").stream().map(ObjectInfo::name).toList(), "no probe left behind");

            try (Repository repo = Repository.builder().storage(storage).unencrypted().create();
                 LockManager.Lock prune = ((DefaultRepository) repo).locks().acquire(true, "prune")) {
                assertEquals(1, storage.list("locks/").size());
            }
        }
    }

    @Test
    void storeIgnoringIfNoneMatch_isDetected_neverOverwritten_andRefusesExclusiveLocks() throws IOException {
        String bucket = UNSIGNED.newBucket();
        try (FaultInjectingProxy ignoring = new FaultInjectingProxy(UNSIGNED.port(), 0, 1)) {
            ignoring.ignoreConditionalWrites(true);
            // first show the simulated store really overwrites when asked not to
            try (software.amazon.awssdk.services.s3.S3Client raw = software.amazon.awssdk.services.s3.S3Client.builder()
                    .endpointOverride(ignoring.endpoint()).forcePathStyle(true)
                    .region(software.amazon.awssdk.regions.Region.US_EAST_1)
                    .credentialsProvider(software.amazon.awssdk.auth.credentials.StaticCredentialsProvider.create(
                            software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(UNSIGNED.accessKey(), UNSIGNED.secretKey())))
                    .build()) {
                raw.putObject(r -> r.bucket(bucket).key("probe-by-hand").ifNoneMatch("*"),
                        software.amazon.awssdk.core.sync.RequestBody.fromBytes(new byte[]{1}));
                raw.putObject(r -> r.bucket(bucket).key("probe-by-hand").ifNoneMatch("*"),
                        software.amazon.awssdk.core.sync.RequestBody.fromBytes(new byte[]{2}));
                assertArrayEquals(new byte[]{2}, UNSIGNED.client().getObjectAsBytes(r -> r.bucket(bucket).key("probe-by-hand")).asByteArray());
                UNSIGNED.client().deleteObject(r -> r.bucket(bucket).key("probe-by-hand"));
            }
            try (S3Storage storage = UNSIGNED.storage(bucket, ignoring.endpoint()).build()) {
                byte[] first = {1, 2, 3};
                assertTrue(storage.putIfAbsent("wal/00000001/000000010000000000000001", Payload.of(first)));
                assertFalse(storage.putIfAbsent("wal/00000001/000000010000000000000001", Payload.of(new byte[]{9, 9})),
                        "an existing name is reported, not replaced");
                assertArrayEquals(first, storage.readAll("wal/00000001/000000010000000000000001"));
                assertFalse(storage.atomicPutIfAbsent());

                try (Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
                    ConfigurationException e = assertThrows(ConfigurationException.class,
                            () -> ((DefaultRepository) repo).locks().acquire(true, "prune"));
                    assertTrue(e.getMessage().contains("If-None-Match") && e.getMessage().contains("prune"), e.getMessage());
                    try (LockManager.Lock backup = ((DefaultRepository) repo).locks().acquire(false, "backup")) {
                        assertEquals(1, storage.list("locks/").size(), "shared locks still work");
                    }
                }
                assertTrue(storage.list("").stream().noneMatch(o -> o.name().contains("probe")), "no probe left behind");
            }
        }
    }

    @Test
    void headBeforePutConfigured_isNotAtomic_andSendsNoProbe() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).conditionalWrites(ConditionalWrites.HEAD_BEFORE_PUT)
                .executionInterceptor(rec).build()) {
            assertFalse(storage.atomicPutIfAbsent());
            assertTrue(storage.putIfAbsent("index/i", Payload.of(new byte[]{1})));
            assertEquals(List.of(), rec.probes());
        }
    }

    @Test
    void storeAnswering501_isNotAtomic() throws IOException {
        try (FaultInjectingProxy old = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(S3.newBucket(), old.endpoint()).build()) {
            old.rejectConditionalWrites(true);
            assertFalse(storage.atomicPutIfAbsent());
            assertTrue(storage.putIfAbsent("index/i", Payload.of(new byte[]{1})));
            assertFalse(storage.putIfAbsent("index/i", Payload.of(new byte[]{2})));
        }
    }

    @Test
    void putNew_sendsTheConditionWithoutTheProbe_andAnExistingNameIsKept() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).executionInterceptor(rec).build()) {
            assertTrue(storage.putNew("locks/a", Payload.of(new byte[]{1})));
            assertFalse(storage.putNew("locks/a", Payload.of(new byte[]{2})), "refused by the store (412), not replaced");
            assertArrayEquals(new byte[]{1}, storage.readAll("locks/a"));
            assertEquals(List.of(), rec.probes(), "no probe for a random name");
            assertTrue(rec.sent("PutObject").stream().allMatch(p -> "*".equals(p.header("if-none-match").orElse(null))));
            // what needs the answer still asks: once
            assertTrue(storage.atomicPutIfAbsent());
            assertEquals(3, rec.probes().size());
        }
    }

    @Test
    void putNew_onAStoreIgnoringIfNoneMatch_writes_andExclusiveLocksAreStillRefused() throws IOException {
        String bucket = UNSIGNED.newBucket();
        try (FaultInjectingProxy ignoring = new FaultInjectingProxy(UNSIGNED.port(), 0, 1)) {
            ignoring.ignoreConditionalWrites(true);
            try (S3Storage storage = UNSIGNED.storage(bucket, ignoring.endpoint()).build()) {
                Repository.builder().storage(storage).unencrypted().create().close();
            }
            // a fresh storage (a new process): its first write is a shared lock's, which does not probe
            try (S3Storage storage = UNSIGNED.storage(bucket, ignoring.endpoint()).build();
                 Repository repo = Repository.builder().storage(storage).unencrypted().open()) {
                try (LockManager.Lock backup = ((DefaultRepository) repo).locks().acquire(false, "backup")) {
                    assertEquals(1, storage.list("locks/").size());
                }
                ConfigurationException e = assertThrows(ConfigurationException.class,
                        () -> ((DefaultRepository) repo).locks().acquire(true, "prune"));
                assertTrue(e.getMessage().contains("If-None-Match"), e.getMessage());
                assertFalse(storage.atomicPutIfAbsent());
            }
        }
    }

    @Test
    void putNew_onAStoreAnswering501_fallsBackToHeadBeforePut() throws IOException {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (FaultInjectingProxy old = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(S3.newBucket(), old.endpoint()).executionInterceptor(rec).build()) {
            old.rejectConditionalWrites(true);
            assertTrue(storage.putNew("locks/b", Payload.of(new byte[]{1})));
            assertArrayEquals(new byte[]{1}, storage.readAll("locks/b"));
            assertFalse(storage.putNew("locks/b", Payload.of(new byte[]{2})), "HEAD before PUT finds it");
            assertArrayEquals(new byte[]{1}, storage.readAll("locks/b"));
            assertFalse(storage.atomicPutIfAbsent());
            assertTrue(storage.putIfAbsent("index/i", Payload.of(new byte[]{3})));
            assertEquals(List.of(), rec.probes(), "501 is known: nothing to probe");
        }
    }
}
