package io.backupkit.s3;

import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.StorageClass;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The headers S3Storage sends, as configured. S3Proxy enforces signatures, checksums, conditional
 * writes and records storage class and SSE; Object Lock it accepts but does not enforce, so for that
 * this test checks what is sent — enforcement is the store's.
 */
class S3HeadersIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final int PART = (int) S3Storage.MIN_PART_SIZE;

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static String objectOf(RecordingInterceptor.Sent s) {
        // path-style: /bucket/key
        String p = s.path();
        return p.substring(p.indexOf('/', 1) + 1);
    }

    @Test
    void storageClass_perObjectKind() {
        RecordingInterceptor rec = new RecordingInterceptor();
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).prefix("r").partSize(PART)
                .storageClass(ObjectKind.DATA, StorageClass.STANDARD_IA)
                .storageClass(ObjectKind.WAL, StorageClass.GLACIER_IR)
                .executionInterceptor(rec).build()) {
            storage.putIfAbsent("config", Payload.of(random(100)));
            storage.putIfAbsent("keys/k1", Payload.of(random(101)));
            storage.putIfAbsent("index/i1", Payload.of(random(102)));
            storage.putIfAbsent("snapshots/s1", Payload.of(random(103)));
            storage.putIfAbsent("locks/l1", Payload.of(random(104)));
            storage.putIfAbsent("data/00/small", Payload.of(random(105)));
            storage.putIfAbsent("data/00/large", Payload.of(random(2 * PART + 1)));
            storage.putIfAbsent("wal/00000001/000000010000000000000001", Payload.of(random(106)));

            for (RecordingInterceptor.Sent s : rec.sent("PutObject")) {
                String name = objectOf(s).substring("r/".length());
                String expected = switch (ObjectKind.of(name)) {
                    case DATA -> "STANDARD_IA";
                    case WAL -> "GLACIER_IR";
                    default -> null;
                };
                assertEquals(expected, s.header("x-amz-storage-class").orElse(null), name);
            }
            RecordingInterceptor.Sent create = rec.sent("CreateMultipartUpload").get(0);
            assertEquals("STANDARD_IA", create.header("x-amz-storage-class").orElseThrow());
            // the store recorded it (S3Proxy keeps the class of single-request objects only)
            assertEquals(StorageClass.STANDARD_IA, S3.client().headObject(r -> r.bucket(bucket).key("r/data/00/small")).storageClass());
            assertEquals(StorageClass.GLACIER_IR, S3.client().headObject(r -> r.bucket(bucket)
                    .key("r/wal/00000001/000000010000000000000001")).storageClass());
        }
    }

    @Test
    void sseKms_sendsAlgorithmAndKeyId_onPutsAndMultipartCreates() {
        RecordingInterceptor rec = new RecordingInterceptor();
        String bucket = S3.newBucket();
        String keyId = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        try (S3Storage storage = S3.storage(bucket).partSize(PART).serverSideEncryptionKms(keyId)
                .executionInterceptor(rec).build()) {
            storage.putIfAbsent("snapshots/s1", Payload.of(random(200)));
            storage.putIfAbsent("data/01/big", Payload.of(random(2 * PART + 2)));
            List<RecordingInterceptor.Sent> writes = new java.util.ArrayList<>(rec.sent("PutObject"));
            writes.addAll(rec.sent("CreateMultipartUpload"));
            assertEquals(2, writes.size());
            for (RecordingInterceptor.Sent s : writes) {
                assertEquals("aws:kms", s.header("x-amz-server-side-encryption").orElseThrow(), s.operation());
                assertEquals(keyId, s.header("x-amz-server-side-encryption-aws-kms-key-id").orElseThrow(), s.operation());
            }
            HeadObjectResponse head = S3.client().headObject(r -> r.bucket(bucket).key("snapshots/s1"));
            assertEquals("aws:kms", head.serverSideEncryptionAsString());
            assertEquals(keyId, head.ssekmsKeyId());
        }
    }

    @Test
    void sseS3_sendsAes256() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).serverSideEncryptionS3().executionInterceptor(rec).build()) {
            storage.putIfAbsent("index/i", Payload.of(random(300)));
            RecordingInterceptor.Sent put = rec.sent("PutObject").get(0);
            assertEquals("AES256", put.header("x-amz-server-side-encryption").orElseThrow());
            assertFalse(put.header("x-amz-server-side-encryption-aws-kms-key-id").isPresent());
        }
    }

    @Test
    void objectLock_andLegalHold_sentOnEveryKindButLocks() {
        RecordingInterceptor rec = new RecordingInterceptor();
        Instant before = Instant.now();
        try (S3Storage storage = S3.storage(S3.newBucket()).partSize(PART)
                .objectLock(ObjectLockMode.COMPLIANCE, Duration.ofDays(30)).legalHold(true)
                .executionInterceptor(rec).build()) {
            storage.putIfAbsent("snapshots/s", Payload.of(random(400)));
            storage.putIfAbsent("locks/l", Payload.of(random(401)));
            storage.putIfAbsent("data/02/big", Payload.of(random(2 * PART + 3)));

            RecordingInterceptor.Sent snapshot = rec.sent("PutObject").stream()
                    .filter(s -> s.path().endsWith("/snapshots/s")).findFirst().orElseThrow();
            assertEquals("COMPLIANCE", snapshot.header("x-amz-object-lock-mode").orElseThrow());
            Instant until = Instant.parse(snapshot.header("x-amz-object-lock-retain-until-date").orElseThrow());
            assertTrue(!until.isBefore(before.plus(Duration.ofDays(30)).minusSeconds(5))
                    && until.isBefore(Instant.now().plus(Duration.ofDays(30)).plusSeconds(5)), until.toString());
            assertEquals("ON", snapshot.header("x-amz-object-lock-legal-hold").orElseThrow());

            RecordingInterceptor.Sent lock = rec.sent("PutObject").stream()
                    .filter(s -> s.path().endsWith("/locks/l")).findFirst().orElseThrow();
            assertFalse(lock.header("x-amz-object-lock-mode").isPresent(), "locks must stay deletable");
            assertFalse(lock.header("x-amz-object-lock-legal-hold").isPresent());

            RecordingInterceptor.Sent create = rec.sent("CreateMultipartUpload").get(0);
            assertEquals("COMPLIANCE", create.header("x-amz-object-lock-mode").orElseThrow());
            assertEquals("ON", create.header("x-amz-object-lock-legal-hold").orElseThrow());
        }
    }

    @Test
    void objectLock_fixedRetainUntil() {
        RecordingInterceptor rec = new RecordingInterceptor();
        Instant until = Instant.parse("2030-01-01T00:00:00Z");
        try (S3Storage storage = S3.storage(S3.newBucket()).objectLock(ObjectLockMode.GOVERNANCE, until)
                .executionInterceptor(rec).build()) {
            storage.putIfAbsent("data/03/p", Payload.of(random(500)));
            RecordingInterceptor.Sent put = rec.sent("PutObject").get(0);
            assertEquals("GOVERNANCE", put.header("x-amz-object-lock-mode").orElseThrow());
            assertEquals(until, Instant.parse(put.header("x-amz-object-lock-retain-until-date").orElseThrow()));
            assertFalse(put.header("x-amz-object-lock-legal-hold").isPresent());
        }
    }

    @Test
    void checksums_andConditionalWrite_sentOnEveryWrite_andCheckedByTheStore() {
        RecordingInterceptor rec = new RecordingInterceptor();
        String bucket = S3.newBucket();
        byte[] small = random(600);
        try (S3Storage storage = S3.storage(bucket).partSize(PART).executionInterceptor(rec).build()) {
            storage.putIfAbsent("index/small", Payload.of(small));
            storage.putIfAbsent("data/04/big", Payload.of(random(2 * PART + 4)));
            storage.putIfAbsent("index/streamed", new Payload() {
                public long length() {
                    return small.length;
                }

                public java.io.InputStream open() {
                    return new java.io.ByteArrayInputStream(small);
                }
            });

            List<RecordingInterceptor.Sent> puts = rec.sent("PutObject");
            for (RecordingInterceptor.Sent put : puts) {
                assertEquals("*", put.header("if-none-match").orElseThrow());
                assertChecksumCrc32c(put);
            }
            assertEquals(crc32c(small), puts.get(0).header("x-amz-checksum-crc32c").orElseThrow(),
                    "in-memory bytes: the checksum goes in a header the store checks before storing");
            assertEquals("x-amz-checksum-crc32c", puts.get(1).header("x-amz-trailer").orElseThrow(),
                    "streamed bytes: the SDK sends the checksum as a trailer");
            assertEquals("CRC32C", rec.sent("CreateMultipartUpload").get(0).header("x-amz-checksum-algorithm").orElseThrow());
            for (RecordingInterceptor.Sent part : rec.sent("UploadPart")) {
                assertChecksumCrc32c(part);
            }
            assertEquals("*", rec.sent("CompleteMultipartUpload").get(0).header("if-none-match").orElseThrow());

            HeadObjectResponse head = S3.client().headObject(r -> r.bucket(bucket).key("index/small").checksumMode(ChecksumMode.ENABLED));
            assertEquals(crc32c(small), head.checksumCRC32C(), "the store kept the CRC32C it checked; reads verify it");
        }
    }

    private static String crc32c(byte[] b) {
        java.util.zip.CRC32C c = new java.util.zip.CRC32C();
        c.update(b);
        return java.util.Base64.getEncoder().encodeToString(java.nio.ByteBuffer.allocate(4).putInt((int) c.getValue()).array());
    }

    private static void assertChecksumCrc32c(RecordingInterceptor.Sent s) {
        String trailer = s.header("x-amz-trailer").orElse("");
        boolean inHeader = s.header("x-amz-checksum-crc32c").isPresent();
        assertTrue(inHeader || trailer.toLowerCase(Locale.ROOT).equals("x-amz-checksum-crc32c"),
                s.operation() + " sends a CRC32C checksum: " + s.headers());
    }
}
