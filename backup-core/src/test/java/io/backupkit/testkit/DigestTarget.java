package io.backupkit.testkit;

import io.backupkit.RestorePlan;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationCheck;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A {@link RestoreTarget} for generated streams: reads every stream and records its SHA-256 and length. */
public final class DigestTarget implements RestoreTarget {
    private final Map<String, String> digests = new ConcurrentHashMap<>();
    private final Map<String, Long> sizes = new ConcurrentHashMap<>();

    @Override
    public String engine() {
        return GeneratedSource.ENGINE;
    }

    @Override
    public String describe() {
        return "digest target";
    }

    @Override
    public RestorePlan plan(RestoreContext context) {
        return new RestorePlan(describe(), context.snapshot().streams().stream().map(s -> "read " + s.name()).toList(),
                context.snapshot().streams().stream().mapToLong(SnapshotStream::size).sum());
    }

    @Override
    public void restore(RestoreContext context) {
        context.snapshot().streams().parallelStream().forEach(s -> {
            MessageDigest md = Hashes.sha256();
            long n = 0;
            try (InputStream in = context.openStream(s.name())) {
                byte[] buf = new byte[256 * 1024];
                int r;
                while ((r = in.read(buf)) >= 0) {
                    md.update(buf, 0, r);
                    n += r;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            digests.put(s.name(), Hashes.hex(md.digest()));
            sizes.put(s.name(), n);
        });
    }

    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        restore(context);
        return List.of(VerificationCheck.passed("scratch restore", digests.size() + " streams read"));
    }

    public Map<String, String> digests() {
        return Map.copyOf(digests);
    }

    public Map<String, Long> sizes() {
        return Map.copyOf(sizes);
    }

    /** SHA-256 and length of what a supplier produces, for comparison. */
    public static Map.Entry<String, Long> digestOf(InputStream in) throws IOException {
        MessageDigest md = Hashes.sha256();
        long n = 0;
        byte[] buf = new byte[256 * 1024];
        int r;
        try (in) {
            while ((r = in.read(buf)) >= 0) {
                md.update(buf, 0, r);
                n += r;
            }
        }
        return Map.entry(Hashes.hex(md.digest()), n);
    }
}
