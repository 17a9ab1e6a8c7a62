package io.backupkit.s3;

import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HEAD-before-PUT mode for stores that ignore If-None-Match, and the automatic fallback on 501. */
class S3ConditionalWritesIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
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
}
