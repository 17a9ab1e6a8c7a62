package io.backupkit.postgres.internal.physical;

import io.backupkit.spi.BlockOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Copies a tar archive byte for byte into a backup stream, marking a boundary before every header and
 * before every file's content, so fixed-size blocks line up with file offsets: a relation page changed
 * in place changes one block of the next backup, however other files grew. Keeps the content of a few
 * small files it is asked for (backup_label, global/pg_control).
 */
public final class ArchiveCopier {
    private static final int BUFFER = 256 * 1024;
    private static final int MAX_CAPTURE = 64 * 1024;
    private final Set<String> capture;
    private FileList fileList;
    private String area = "base";
    private final Map<String, byte[]> captured = new ConcurrentHashMap<>();
    private long files;
    private long bytes;

    public ArchiveCopier(Set<String> capture) {
        this.capture = capture;
    }

    /** Records every entry copied in {@code list} under {@code area}. */
    public ArchiveCopier listInto(FileList list, String area) {
        this.fileList = list;
        this.area = area;
        return this;
    }

    /** Copies everything up to the end of the archive (and whatever trails it) into {@code out}. */
    public void copy(TarReader reader, BlockOutputStream out) throws IOException {
        byte[] buf = new byte[BUFFER];
        TarEntry e;
        while ((e = reader.next()) != null) {
            out.boundary();
            out.write(e.header());
            out.boundary();
            ByteArrayOutputStream keep = e.isFile() && capture.contains(e.name()) && e.size() <= MAX_CAPTURE
                    ? new ByteArrayOutputStream((int) e.size()) : null;
            int n;
            while ((n = reader.read(buf, 0, buf.length)) >= 0) {
                out.write(buf, 0, n);
                if (keep != null) {
                    keep.write(buf, 0, n);
                }
            }
            int pad = reader.readPadding(buf);
            out.write(buf, 0, pad);
            if (keep != null) {
                captured.put(e.name(), keep.toByteArray());
            }
            if (e.isFile()) {
                files++;
                bytes += e.size();
            }
            if (fileList != null) {
                fileList.add(area, e);
            }
        }
        out.boundary();
        // the end-of-archive marker's first zero block was consumed by next()
        out.write(new byte[TarReader.BLOCK]);
        reader.drainTrailer(out);
    }

    /** Content of a captured file, or null when the archive had no such file. */
    public byte[] captured(String name) {
        return captured.get(name);
    }

    public long files() {
        return files;
    }

    public long bytes() {
        return bytes;
    }
}
