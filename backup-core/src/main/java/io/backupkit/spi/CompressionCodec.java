package io.backupkit.spi;

/**
 * Compresses single blobs (about 1 MiB each). Every stored blob records the {@link #id()} of the codec
 * that wrote it, so a repository can be read whatever codec is configured now. Implementations are
 * immutable and thread-safe; built-in codecs: zstd (default), gzip, bzip2, xz, lz4, none.
 */
public interface CompressionCodec {

    /** Name used in configuration and on the command line, lower case ("zstd"). */
    String name();

    /** Stable identifier written into each blob, 0–255; 0 is "none". Third-party codecs use 128–255. */
    int id();

    /** The level in use; meaning depends on the codec. */
    int level();

    /** This codec at another level. */
    CompressionCodec withLevel(int level);

    byte[] compress(byte[] src, int offset, int length);

    /**
     * Compresses {@code src[offset, offset+length)} into {@code dst} from {@code dstOffset}; returns the
     * compressed length, or -1 when the result does not fit in {@code dst.length - dstOffset} bytes.
     * The pipeline calls this with a reused buffer; codecs that can write into it directly override it
     * (the built-in zstd, lz4 and none do). The default compresses with {@link #compress(byte[], int, int)}
     * and copies.
     */
    default int compress(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
        byte[] c = compress(src, offset, length);
        if (c.length > dst.length - dstOffset) {
            return -1;
        }
        System.arraycopy(c, 0, dst, dstOffset, c.length);
        return c.length;
    }

    /**
     * @param originalLength the exact length of the uncompressed data
     * @throws IllegalArgumentException or any runtime exception when the input is not valid; callers
     *                                  turn it into an {@link io.backupkit.IntegrityException}
     */
    byte[] decompress(byte[] src, int offset, int length, int originalLength);
}
