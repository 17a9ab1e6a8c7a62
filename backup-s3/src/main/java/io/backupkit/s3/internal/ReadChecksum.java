package io.backupkit.s3.internal;

import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The checksum a store recorded for a whole object (returned on GET with {@code x-amz-checksum-mode:
 * ENABLED}), recomputed over the bytes actually read, also when they arrived in several responses
 * (a read resumed after a broken connection). We check it ourselves rather than through the SDK: the
 * SDK checks only one response (a resumed read would go unchecked) and reports a mismatch as an
 * untyped client exception.
 */
public final class ReadChecksum {
    private final String algorithm;
    private final String expected;
    private final Checksum crc;
    private final MessageDigest digest;

    private ReadChecksum(String algorithm, String expected) {
        this.algorithm = algorithm;
        this.expected = expected;
        switch (algorithm) {
            case "CRC32C" -> {
                crc = new CRC32C();
                digest = null;
            }
            case "CRC32" -> {
                crc = new CRC32();
                digest = null;
            }
            default -> {
                crc = null;
                digest = newDigest(algorithm.equals("SHA256") ? "SHA-256" : "SHA-1");
            }
        }
    }

    /**
     * The check for a whole-object response, or null when the store sent no checksum we can recompute:
     * none recorded, a composite checksum of a multipart upload ({@code …-N}, a checksum of the parts'
     * checksums), or CRC64NVME (needs the AWS CRT library).
     */
    public static ReadChecksum of(GetObjectResponse r) {
        if (r.checksumType() == ChecksumType.COMPOSITE) {
            return null;
        }
        String[][] candidates = {{"CRC32C", r.checksumCRC32C()}, {"CRC32", r.checksumCRC32()}, {"SHA256", r.checksumSHA256()},
                {"SHA1", r.checksumSHA1()}};
        for (String[] c : candidates) {
            if (c[1] != null && !c[1].isBlank() && !c[1].contains("-")) {
                return new ReadChecksum(c[0], c[1].strip());
            }
        }
        return null;
    }

    public String algorithm() {
        return algorithm;
    }

    public void update(byte[] b, int off, int len) {
        if (crc != null) {
            crc.update(b, off, len);
        } else {
            digest.update(b, off, len);
        }
    }

    /** Whether the bytes seen so far have the recorded checksum (call once, after the last byte). */
    public boolean matches() {
        String actual = crc != null
                ? Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array())
                : Base64.getEncoder().encodeToString(digest.digest());
        return actual.equals(expected);
    }

    private static MessageDigest newDigest(String name) {
        try {
            return MessageDigest.getInstance(name);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " not available", e);
        }
    }
}
