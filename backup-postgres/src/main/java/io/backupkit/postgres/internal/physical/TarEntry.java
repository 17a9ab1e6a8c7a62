package io.backupkit.postgres.internal.physical;

/**
 * One member of a tar archive.
 *
 * @param name     path inside the archive, without a trailing slash
 * @param type     {@link #FILE}, {@link #DIRECTORY}, {@link #SYMLINK} or another ustar type flag
 * @param size     bytes of content (0 for directories and links)
 * @param mode     permission bits
 * @param mtime    modification time, seconds since the epoch
 * @param linkName target of a symbolic link, else null
 * @param header   the raw header block(s) as they appear in the archive (pax or GNU long-name blocks
 *                 included), a multiple of 512 bytes
 */
public record TarEntry(String name, char type, long size, int mode, long mtime, String linkName, byte[] header) {
    public static final char FILE = '0';
    public static final char DIRECTORY = '5';
    public static final char SYMLINK = '2';

    public boolean isFile() {
        return type == FILE || type == '\0' || type == '7';
    }

    public boolean isDirectory() {
        return type == DIRECTORY;
    }

    public boolean isSymlink() {
        return type == SYMLINK;
    }

    /** Content plus the zero padding up to the next 512-byte block. */
    public long paddedSize() {
        return (size + 511) / 512 * 512;
    }
}
