package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalCommandExecutor;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreContext;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A BackupContext / RestoreContext that keeps streams in memory: lets the engine be tested without
 * the repository pipeline, and lets a test damage a snapshot on purpose.
 */
final class InMemoryBackup implements BackupContext {
    private final int parallelism;
    private final CommandExecutor executor;
    private final Map<String, ByteArrayOutputStream> streams = new ConcurrentHashMap<>();
    private final List<String> order = new ArrayList<>();
    private final Map<String, Object> metadata = new ConcurrentHashMap<>();
    private final AtomicInteger openNow = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private volatile long expectedBytes = -1;

    InMemoryBackup(int parallelism) {
        this(parallelism, new LocalCommandExecutor());
    }

    InMemoryBackup(int parallelism, CommandExecutor executor) {
        this.parallelism = parallelism;
        this.executor = executor;
    }

    static Snapshot backup(BackupSource source, int parallelism) {
        InMemoryBackup ctx = new InMemoryBackup(parallelism);
        source.backup(ctx);
        return ctx.snapshot(source);
    }

    @Override
    public int parallelism() {
        return parallelism;
    }

    @Override
    public CommandExecutor commandExecutor() {
        return executor;
    }

    @Override
    public OutputStream newStream(String name) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        synchronized (order) {
            if (streams.putIfAbsent(name, buf) != null) {
                throw new IllegalStateException("stream " + name + " opened twice");
            }
            order.add(name);
        }
        maxOpen.accumulateAndGet(openNow.incrementAndGet(), Math::max);
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) {
                buf.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                buf.write(b, off, len);
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    openNow.decrementAndGet();
                }
            }
        };
    }

    @Override
    public void putMetadata(String key, Object value) {
        metadata.put(key, value);
    }

    @Override
    public void expectedBytes(long bytes) {
        this.expectedBytes = bytes;
    }

    long expectedBytesReported() {
        return expectedBytes;
    }

    /** Most streams that were open at once. */
    int maxConcurrentStreams() {
        return maxOpen.get();
    }

    Snapshot snapshot(BackupSource source) {
        List<SnapshotStream> list = new ArrayList<>();
        for (String name : order) {
            byte[] data = streams.get(name).toByteArray();
            list.add(new SnapshotStream(name, data.length, sha256(data), 1));
        }
        return new Snapshot(HexFormat.of().formatHex(new byte[32]).replace('0', 'a'), Instant.now(), "test", source.engine(),
                source.describe(), Map.of(), list, new LinkedHashMap<>(metadata), 0, 0, 0);
    }

    byte[] data(String name) {
        return streams.get(name).toByteArray();
    }

    /** A restore context over this backup, optionally with a damaged stream or metadata. */
    RestoreContext restoreContext(Snapshot snapshot, int parallelism) {
        return restoreContext(snapshot, parallelism, Map.of());
    }

    RestoreContext restoreContext(Snapshot snapshot, int parallelism, Map<String, UnaryOperator<byte[]>> damage) {
        Map<String, byte[]> contents = new LinkedHashMap<>();
        streams.forEach((k, v) -> contents.put(k, damage.getOrDefault(k, UnaryOperator.identity()).apply(v.toByteArray())));
        return new RestoreContext() {
            @Override
            public Snapshot snapshot() {
                return snapshot;
            }

            @Override
            public InputStream openStream(String name) {
                byte[] data = contents.get(name);
                SnapshotStream s = snapshot.stream(name).orElse(null);
                if (data == null || s == null) {
                    throw new ConfigurationException("snapshot has no stream " + name);
                }
                MessageDigest md = newSha256();
                return new FilterInputStream(new ByteArrayInputStream(data)) {
                    @Override
                    public int read() throws IOException {
                        int b = super.read();
                        if (b >= 0) {
                            md.update((byte) b);
                        } else {
                            verify();
                        }
                        return b;
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = super.read(b, off, len);
                        if (n > 0) {
                            md.update(b, off, n);
                        } else if (n < 0) {
                            verify();
                        }
                        return n;
                    }

                    private boolean verified;

                    private void verify() {
                        if (verified) {
                            return;
                        }
                        verified = true;
                        String got = HexFormat.of().formatHex(md.digest());
                        if (!got.equals(s.sha256())) {
                            throw new IntegrityException("stream " + name, "SHA-256 mismatch: expected " + s.sha256() + ", read " + got);
                        }
                    }
                };
            }

            @Override
            public int parallelism() {
                return parallelism;
            }

            @Override
            public CommandExecutor commandExecutor() {
                return executor;
            }
        };
    }

    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(newSha256().digest(data));
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
