package io.backupkit.s3;

import io.backupkit.StorageException;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Large objects go up as parallel multipart uploads with bounded memory, and failures leave nothing behind. */
class S3MultipartIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final int PART = (int) S3Storage.MIN_PART_SIZE;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A payload that can only be streamed (no array to slice), like a pack spooled to disk. */
    private static Payload streaming(byte[] data) {
        return new Payload() {
            public long length() {
                return data.length;
            }

            public InputStream open() {
                return new java.io.ByteArrayInputStream(data);
            }
        };
    }

    private static byte[] read(S3Storage storage, String name) throws IOException {
        try (InputStream in = storage.get(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void arrayPayload_largerThanPartSize_uploadsPartsInParallel() throws IOException {
        RecordingInterceptor rec = new RecordingInterceptor();
        byte[] data = random(6 * PART + 777, 1);
        try (S3Storage storage = S3.storage(S3.newBucket()).partSize(PART).maxConcurrency(4)
                .executionInterceptor(rec).build()) {
            assertTrue(storage.putIfAbsent("data/aa/pack1", Payload.of(data)));

            assertEquals(6, rec.sent("UploadPart").size(), "six equal parts, none smaller than the part size");
            assertEquals(1, rec.sent("CreateMultipartUpload").size());
            assertEquals(1, rec.sent("CompleteMultipartUpload").size());
            int peak = rec.peakInFlight("UploadPart");
            assertTrue(peak >= 2 && peak <= 4, "parts in flight at once: " + peak + " (expected 2..4)");
            assertEquals(0, storage.partBuffersAllocated(), "in-memory payloads are sliced, not copied");
            assertArrayEquals(data, read(storage, "data/aa/pack1"));
        }
    }

    @Test
    void arrayPayload_underTwoPartSizes_isOneRequest() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).partSize(PART).executionInterceptor(rec).build()) {
            assertTrue(storage.putIfAbsent("data/ab/pack", Payload.of(random(PART + PART / 2, 9))));
            assertEquals(1, rec.requestCount(), "a pack just over the part size is one PutObject, not four requests");
            assertEquals(1, rec.sent("PutObject").size());
        }
    }

    @Test
    void streamingPayload_holdsAtMostMaxConcurrencyPartBuffers() throws Exception {
        RecordingInterceptor rec = new RecordingInterceptor();
        int maxConcurrency = 3;
        byte[] a = random(8 * PART + 1, 2);
        byte[] b = random(5 * PART + 99, 3);
        try (S3Storage storage = S3.storage(S3.newBucket()).partSize(PART).maxConcurrency(maxConcurrency)
                .executionInterceptor(rec).build()) {
            // two uploads at once share the storage-wide bound
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                Future<Boolean> fa = pool.submit(() -> storage.putIfAbsent("data/bb/a", streaming(a)));
                Future<Boolean> fb = pool.submit(() -> storage.putIfAbsent("data/bb/b", streaming(b)));
                assertTrue(fa.get());
                assertTrue(fb.get());
            } finally {
                pool.shutdownNow();
            }
            // Memory bound: a part buffer is taken only after a permit (maxConcurrency storage-wide) and
            // given back before the permit, so buffers in use can never exceed maxConcurrency.
            assertTrue(storage.peakPartBuffersInUse() <= maxConcurrency,
                    "part buffers in use at once: " + storage.peakPartBuffersInUse());
            assertTrue(storage.partBuffersAllocated() <= maxConcurrency,
                    "buffers allocated: " + storage.partBuffersAllocated() + " (reused between parts and uploads)");
            assertTrue(rec.peakInFlight("UploadPart") >= 2, "streamed parts still go up in parallel");
            assertTrue(rec.peakInFlight("UploadPart") <= maxConcurrency);
            assertEquals(9 + 6, rec.sent("UploadPart").size());
            assertArrayEquals(a, read(storage, "data/bb/a"));
            assertArrayEquals(b, read(storage, "data/bb/b"));
        }
    }

    @Test
    void failingPayload_abortsUpload_andLeavesNothingVisible() {
        byte[] data = random(4 * PART, 4);
        Payload failing = new Payload() {
            public long length() {
                return data.length;
            }

            public InputStream open() {
                return new FilterInputStream(new java.io.ByteArrayInputStream(data)) {
                    long read;

                    @Override
                    public int read(byte[] buf, int off, int len) throws IOException {
                        if (read > 2L * PART + 100) {
                            throw new IOException("disk went away");
                        }
                        int n = super.read(buf, off, len);
                        read += Math.max(0, n);
                        return n;
                    }
                };
            }
        };
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).partSize(PART).maxConcurrency(2).build()) {
            StorageException e = assertThrows(StorageException.class, () -> storage.putIfAbsent("data/cc/broken", failing));
            assertTrue(e.getMessage().contains("data/cc/broken"), e.getMessage());
            assertTrue(storage.stat("data/cc/broken").isEmpty());
            assertEquals(List.of(), storage.list(""));
            assertEquals(0, S3.client().listMultipartUploads(r -> r.bucket(bucket)).uploads().size(),
                    "the multipart upload was aborted");
            // the name is still free
            assertTrue(storage.putIfAbsent("data/cc/broken", Payload.of(data)));
        }
    }

    @Test
    void payloadShorterThanDeclared_failsAndAborts() {
        byte[] data = random(2 * PART + 10, 5);
        Payload lying = new Payload() {
            public long length() {
                return data.length + 1000;
            }

            public InputStream open() {
                return new java.io.ByteArrayInputStream(data);
            }
        };
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).partSize(PART).build()) {
            StorageException e = assertThrows(StorageException.class, () -> storage.putIfAbsent("data/dd/short", lying));
            assertTrue(e.getMessage().contains("ended after"), e.getMessage());
            assertTrue(storage.stat("data/dd/short").isEmpty());
            assertEquals(0, S3.client().listMultipartUploads(r -> r.bucket(bucket)).uploads().size());
        }
    }

    @Test
    void multipartPutIfAbsent_whenObjectExists_returnsFalseAndKeepsOriginal() throws IOException {
        byte[] first = random(2 * PART + 5, 6);
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).partSize(PART).build()) {
            assertTrue(storage.putIfAbsent("data/ee/p", Payload.of(first)));
            List<Boolean> again = new ArrayList<>();
            again.add(storage.putIfAbsent("data/ee/p", Payload.of(random(3 * PART, 7))));
            again.add(storage.putIfAbsent("data/ee/p", streaming(random(2 * PART + 1, 8))));
            assertEquals(List.of(false, false), again);
            assertArrayEquals(first, read(storage, "data/ee/p"));
            assertEquals(0, S3.client().listMultipartUploads(r -> r.bucket(bucket)).uploads().size(),
                    "refused completions are aborted");
        }
    }
}
