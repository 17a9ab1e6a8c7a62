package io.backupkit.internal.log;

import io.backupkit.spi.Payload;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The sealed pieces of one log object while it is being built: in memory up to
 * {@link #MEMORY_LIMIT}, then in a temporary file, so a 1 GiB WAL segment (the largest
 * {@code wal_segment_size}) never needs a heap of that size. The header is prepended at the end,
 * when the content's length and hash are known.
 */
final class SealedObjectBuffer implements AutoCloseable {
    static final long MEMORY_LIMIT = 64L * 1024 * 1024;

    private final List<byte[]> chunks = new ArrayList<>();
    private long length;
    private Path spill;
    private OutputStream spillOut;

    void append(byte[] b) {
        try {
            if (spill == null && length + b.length > MEMORY_LIMIT) {
                spill = Files.createTempFile("backupkit-log-", ".tmp");
                spillOut = Files.newOutputStream(spill);
                for (byte[] c : chunks) {
                    spillOut.write(c);
                }
                chunks.clear();
            }
            if (spill != null) {
                spillOut.write(b);
            } else {
                chunks.add(b);
            }
            length += b.length;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot spool a large log object to a temporary file", e);
        }
    }

    long length() {
        return length;
    }

    /** A payload of {@code prefix} followed by everything appended; valid until {@link #close()}. */
    Payload payload(byte[] prefix) {
        try {
            if (spillOut != null) {
                spillOut.close();
                spillOut = null;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (spill == null) {
            byte[] all = new byte[(int) (prefix.length + length)];
            System.arraycopy(prefix, 0, all, 0, prefix.length);
            int o = prefix.length;
            for (byte[] c : chunks) {
                System.arraycopy(c, 0, all, o, c.length);
                o += c.length;
            }
            return Payload.of(all);
        }
        Path file = spill;
        long total = prefix.length + length;
        return new Payload() {
            @Override
            public long length() {
                return total;
            }

            @Override
            public InputStream open() throws IOException {
                return new SequenceInputStream(Collections.enumeration(List.of(new ByteArrayInputStream(prefix),
                        Files.newInputStream(file))));
            }
        };
    }

    @Override
    public void close() {
        try {
            if (spillOut != null) {
                spillOut.close();
            }
            if (spill != null) {
                Files.deleteIfExists(spill);
            }
        } catch (IOException ignored) {
            // a leftover temp file is harmless
        }
    }
}
