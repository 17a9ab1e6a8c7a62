package io.backupkit.s3;

import io.backupkit.BackupException;
import io.backupkit.ChecksumMismatchException;
import io.backupkit.s3.FaultInjectingProxy.ResumeAnswer;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A read whose body breaks resumes with a ranged GET; the answer to that GET is used only if it holds
 * exactly the bytes asked for, and the whole object's checksum is still checked over the stitched
 * bytes. The fault proxy cuts the first read and answers the resume like a broken store would.
 */
class S3ResumedReadIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final int SIZE = 300_000;
    private static final int CUT = 50_000;
    private static final String NAME = "data/ab/abcdef";

    private static byte[] data() {
        byte[] b = new byte[SIZE];
        new Random(17).nextBytes(b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(ResumeAnswer.class)
    void wholeObjectRead_resumed(ResumeAnswer answer) throws IOException {
        byte[] data = data();
        String bucket = S3.newBucket();
        try (S3Storage direct = S3.storage(bucket).build()) {
            direct.putIfAbsent(NAME, Payload.of(data));
        }
        try (FaultInjectingProxy proxy = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(bucket, proxy.endpoint()).build()) {
            proxy.cutFirstReadsAfter(CUT);
            proxy.answerResumes(answer);
            switch (answer) {
                case FORWARD -> assertArrayEquals(data, storage.readAll(NAME), "the store's own answer to the resume is used");
                case WRONG_BYTES -> {
                    // the range is right, the bytes are not: only the object's checksum can tell, and it must
                    ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> storage.readAll(NAME));
                    assertEquals(NAME, e.objectName());
                    assertEquals("CRC32C", e.algorithm());
                }
                default -> assertRefused(storage, () -> readAll(storage.get(NAME)), data);
            }
            assertTrue(proxy.resumes() >= 1, "the read was resumed: " + proxy.resumes());
        }
    }

    @ParameterizedTest
    @EnumSource(value = ResumeAnswer.class, names = {"FORWARD", "OTHER_RANGE", "WHOLE_OBJECT", "SHORT", "LONG"})
    void rangedRead_resumed(ResumeAnswer answer) throws IOException {
        // no checksum covers a range (the core authenticates every blob it reads), so WRONG_BYTES is not here
        byte[] data = data();
        String bucket = S3.newBucket();
        try (S3Storage direct = S3.storage(bucket).build()) {
            direct.putIfAbsent(NAME, Payload.of(data));
        }
        int offset = 1000;
        int length = 200_000;
        byte[] expected = Arrays.copyOfRange(data, offset, offset + length);
        try (FaultInjectingProxy proxy = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(bucket, proxy.endpoint()).build()) {
            proxy.cutFirstReadsAfter(CUT);
            proxy.answerResumes(answer);
            if (answer == ResumeAnswer.FORWARD) {
                assertArrayEquals(expected, readAll(storage.get(NAME, offset, length)));
            } else {
                assertRefused(storage, () -> readAll(storage.get(NAME, offset, length)), expected);
            }
            assertTrue(proxy.resumes() >= 1, "the read was resumed: " + proxy.resumes());
        }
    }

    @Test
    void damageInTransit_ofAWholeObjectRead_isAChecksumMismatch() throws IOException {
        byte[] data = data();
        String bucket = S3.newBucket();
        try (S3Storage direct = S3.storage(bucket).build()) {
            direct.putIfAbsent(NAME, Payload.of(data));
        }
        try (FaultInjectingProxy proxy = new FaultInjectingProxy(S3.port(), 0, 1);
             S3Storage storage = S3.storage(bucket, proxy.endpoint()).build()) {
            proxy.flipByteInFirstReads(true);
            ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> storage.readAll(NAME));
            assertTrue(e.getMessage().contains(NAME) && e.getMessage().contains("CRC32C"), e.getMessage());
            proxy.flipByteInFirstReads(false);
            assertArrayEquals(data, storage.readAll(NAME), "a clean read afterwards passes");
        }
    }

    /** The read fails with a backupkit exception naming the object and never hands out other bytes. */
    private static void assertRefused(S3Storage storage, ReadAction read, byte[] expected) {
        byte[] got;
        try {
            got = read.run();
        } catch (BackupException e) {
            assertTrue(e.getMessage().contains(NAME), e.getMessage());
            return;
        } catch (IOException e) {
            // a stream that gives up after its resumes: acceptable, it handed out nothing wrong
            return;
        }
        assertTrue(Arrays.equals(expected, got), "a misbehaving resume must never yield other bytes ("
                + got.length + " bytes read, " + expected.length + " expected)");
    }

    @FunctionalInterface
    private interface ReadAction {
        byte[] run() throws IOException;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }
}
