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
     * @param originalLength the exact length of the uncompressed data
     * @throws IllegalArgumentException or any runtime exception when the input is not valid; callers
     *                                  turn it into an {@link io.backupkit.IntegrityException}
     */
    byte[] decompress(byte[] src, int offset, int length, int originalLength);
}
