package io.backupkit;

/**
 * Bytes read from storage do not match the checksum the storage recorded when they were written (for
 * example S3's {@code x-amz-checksum-crc32c}): the object was damaged at rest or on the way. Reading
 * again may help when the damage happened in transit; a repeated mismatch means damaged data.
 *
 * <pre>{@code
 * catch (ChecksumMismatchException e) {
 *     log.error("{} failed its {} check", e.objectName(), e.algorithm());
 * }
 * }</pre>
 */
public class ChecksumMismatchException extends IntegrityException {
    private static final long serialVersionUID = 1L;
    private final String algorithm;

    /**
     * @param objectName the object read
     * @param algorithm  the checksum that failed ({@code CRC32C}, {@code SHA256}, …)
     * @param message    what was read and how (no secrets)
     */
    public ChecksumMismatchException(String objectName, String algorithm, String message) {
        super(objectName, message);
        this.algorithm = algorithm;
    }

    /** The checksum algorithm whose check failed ({@code CRC32C}, {@code CRC32}, {@code SHA256}, …). */
    public String algorithm() {
        return algorithm;
    }
}
