package io.backupkit.postgres.internal.physical;

import io.backupkit.EngineException;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.Chunking;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The list of everything a physical snapshot holds, one line per file, directory or link, stored as
 * its own stream ({@value #STREAM}) beside the tar streams: {@code area TAB type TAB size TAB mtime
 * TAB mode TAB path}, sorted by area and path. It lets a reader see what a base backup holds without
 * reading the archives; a restore does not need it (the archives carry their own headers).
 */
public final class FileList {
    public static final String STREAM = "files.tsv";
    private final List<String> lines = new ArrayList<>();

    /** One entry: area "base", a tablespace oid, …; type 'f', 'd' or 'l'. */
    public synchronized void add(String area, char type, long size, long mtime, int mode, String path) {
        lines.add(area + '\t' + (type == TarEntry.DIRECTORY ? 'd' : type == TarEntry.SYMLINK ? 'l' : 'f') + '\t' + size + '\t' + mtime + '\t'
                + Integer.toOctalString(mode) + '\t' + path.replace('\t', ' ').replace('\n', ' '));
    }

    public synchronized void add(String area, TarEntry e) {
        add(area, e.type(), e.size(), e.mtime(), e.mode(), e.name());
    }

    public synchronized int size() {
        return lines.size();
    }

    /** Writes the list as stream {@value #STREAM}. */
    public void write(BackupContext context) {
        List<String> sorted;
        synchronized (this) {
            sorted = new ArrayList<>(lines);
        }
        sorted.sort(Comparator.naturalOrder());
        try (OutputStream out = context.newStream(STREAM, Chunking.contentDefined())) {
            out.write("area\ttype\tsize\tmtime\tmode\tpath\n".getBytes(StandardCharsets.UTF_8));
            for (String l : sorted) {
                out.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new EngineException("writing the file list failed: " + e.getMessage(), e);
        }
    }
}
