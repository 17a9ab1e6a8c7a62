package io.backupkit.s3.internal;

import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/** S3 flexible checksums of bytes in memory, base64 as S3 sends them in {@code x-amz-checksum-*}. */
public final class Checksums {
    private Checksums() {
    }

    /** The checksum, or null for algorithms left to the SDK (CRC64NVME) or none. */
    public static String compute(ChecksumAlgorithm algorithm, byte[] b, int off, int len) {
        if (algorithm == null) {
            return null;
        }
        switch (algorithm) {
            case CRC32_C: {
                CRC32C c = new CRC32C();
                c.update(b, off, len);
                return base64Int(c.getValue());
            }
            case CRC32: {
                CRC32 c = new CRC32();
                c.update(b, off, len);
                return base64Int(c.getValue());
            }
            case SHA256:
                return digest("SHA-256", b, off, len);
            case SHA1:
                return digest("SHA-1", b, off, len);
            default:
                return null;
        }
    }

    private static String base64Int(long value) {
        return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) value).array());
    }

    private static String digest(String name, byte[] b, int off, int len) {
        try {
            MessageDigest d = MessageDigest.getInstance(name);
            d.update(b, off, len);
            return Base64.getEncoder().encodeToString(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(name + " not available", e);
        }
    }
}
