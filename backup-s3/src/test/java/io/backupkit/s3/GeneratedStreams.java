package io.backupkit.s3;

import io.backupkit.RestorePlan;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tiny database stand-in for repository tests: a {@link BackupSource} that writes named streams of
 * seeded pseudo-random bytes (with repeated stretches, so there is something to deduplicate), and a
 * {@link RestoreTarget} that reads every stream back and compares it byte for byte with what the
 * source generated.
 */
public final class GeneratedStreams {
    private final Map<String, long[]> streams = new LinkedHashMap<>(); // name -> {size, seed}
    private final Map<String, Long> restored = new ConcurrentHashMap<>();

    /** Adds a stream of {@code size} bytes generated from {@code seed}. */
    public GeneratedStreams stream(String name, long size, long seed) {
        streams.put(name, new long[]{size, seed});
        return this;
    }

    public long totalBytes() {
        return streams.values().stream().mapToLong(s -> s[0]).sum();
    }

    /** Streams restored so far and their verified sizes. */
    public Map<String, Long> restored() {
        return Map.copyOf(restored);
    }

    /** The bytes of a stream: 64 KiB blocks, every fourth a repeat of an earlier one. */
    static void generate(long size, long seed, OutputStream out) throws IOException {
        Random random = new Random(seed);
        byte[][] blocks = new byte[8][65536];
        byte[] block = new byte[65536];
        long written = 0;
        int n = 0;
        while (written < size) {
            if (n % 4 == 3) {
                System.arraycopy(blocks[random.nextInt(8)], 0, block, 0, block.length);
            } else {
                random.nextBytes(block);
                System.arraycopy(block, 0, blocks[n % 8], 0, block.length);
            }
            int len = (int) Math.min(block.length, size - written);
            out.write(block, 0, len);
            written += len;
            n++;
        }
    }

    public BackupSource source() {
        return new BackupSource() {
            @Override
            public String engine() {
                return "generated";
            }

            @Override
            public String describe() {
                return "generated streams " + streams.keySet();
            }

            @Override
            public void backup(BackupContext context) {
                context.expectedBytes(totalBytes());
                context.putMetadata("streams", streams.size());
                streams.forEach((name, s) -> {
                    try (OutputStream out = context.newStream(name)) {
                        generate(s[0], s[1], out);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        };
    }

    public RestoreTarget target() {
        return new RestoreTarget() {
            @Override
            public String engine() {
                return "generated";
            }

            @Override
            public String describe() {
                return "generated-streams comparator";
            }

            @Override
            public RestorePlan plan(RestoreContext context) {
                return new RestorePlan(describe(), List.copyOf(streams.keySet()), totalBytes());
            }

            @Override
            public void restore(RestoreContext context) {
                streams.forEach((name, s) -> {
                    try (InputStream in = context.openStream(name);
                         ComparingOutputStream expected = new ComparingOutputStream(in, name)) {
                        generate(s[0], s[1], expected);
                        expected.finish();
                        restored.put(name, s[0]);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        };
    }

    /** Receives the expected bytes and compares them with the restored stream as they come. */
    private static final class ComparingOutputStream extends OutputStream {
        private final InputStream actual;
        private final String name;
        private final byte[] buf = new byte[65536];
        private long position;

        ComparingOutputStream(InputStream actual, String name) {
            this.actual = actual;
            this.name = name;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[]{(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int n = actual.readNBytes(buf, 0, Math.min(len, buf.length));
                if (n == 0) {
                    throw new IllegalStateException("restored stream " + name + " ends early at byte " + position);
                }
                for (int i = 0; i < n; i++) {
                    if (buf[i] != b[off + i]) {
                        throw new IllegalStateException("restored stream " + name + " differs at byte " + (position + i));
                    }
                }
                position += n;
                off += n;
                len -= n;
            }
        }

        void finish() throws IOException {
            if (actual.read() >= 0) {
                throw new IllegalStateException("restored stream " + name + " is longer than the original (" + position + " bytes)");
            }
        }
    }
}
