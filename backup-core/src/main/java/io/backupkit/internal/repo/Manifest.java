package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.internal.Json;
import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A snapshot manifest as stored in {@code snapshots/<id>}: JSON, zstd-compressed, sealed. The id is
 * the SHA-256 of the stored bytes. Version 2 names each stream's list blobs ({@link BlobLists}), so
 * a manifest is small whatever the size of the database; version 1 (still read) listed every blob id.
 *
 * @param original for a snapshot copied from another repository, the id it has there; else null
 */
public record Manifest(int version, Instant time, String hostname, String engine, String source,
                       Map<String, String> tags, List<StreamEntry> streams, Map<String, Object> metadata,
                       long bytesRead, long bytesStored, long durationMillis, String original) {
    public static final int VERSION = 2;

    /**
     * A stream: name, plaintext size and SHA-256, and its blob ids: in version 2 the ids (hex) of the list
     * blobs that hold them ({@code blobLists}, with {@code blobCount}); in version 1 the ids themselves
     * ({@code blobs}).
     */
    public record StreamEntry(String name, long size, String sha256, List<String> blobs, long blobCount, List<String> blobLists) {
        /** A version 2 entry. */
        public static StreamEntry of(String name, long size, String sha256, long blobCount, List<String> blobLists) {
            return new StreamEntry(name, size, sha256, null, blobCount, List.copyOf(blobLists));
        }

        /** Number of data blobs. */
        public long count() {
            return blobs != null ? blobs.size() : blobCount;
        }

        /** The list blobs (none in version 1). */
        public List<String> lists() {
            return blobLists == null ? List.of() : blobLists;
        }
    }

    public Snapshot toSnapshot(String id) {
        return new Snapshot(id, time, hostname, engine, source, tags == null ? Map.of() : tags,
                streams.stream().map(s -> new SnapshotStream(s.name(), s.size(), s.sha256(), (int) s.count())).toList(),
                metadata, bytesRead, bytesStored, durationMillis);
    }

    public StreamEntry stream(String name) {
        return streams.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    public byte[] encode(Sealer sealer) {
        try {
            byte[] json = Json.MAPPER.writeValueAsBytes(this);
            byte[] z = BuiltinCodecs.ZSTD.compress(json, 0, json.length);
            byte[] plain = new byte[5 + z.length];
            Formats.putInt(plain, 0, json.length);
            plain[4] = (byte) BuiltinCodecs.ZSTD.id();
            System.arraycopy(z, 0, plain, 5, z.length);
            return sealer.seal(plain, Formats.AD_SNAPSHOT);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize manifest", e);
        }
    }

    public static String nameOf(byte[] stored) {
        return Formats.SNAPSHOTS + Hashes.sha256Hex(stored);
    }

    public static Manifest decode(String name, byte[] stored, Sealer sealer) {
        Formats.checkContentHash(name, stored);
        byte[] plain = sealer.open(stored, Formats.AD_SNAPSHOT)
                .orElseThrow(() -> new IntegrityException(name, "snapshot manifest fails authentication"));
        try {
            int rawLength = Formats.getInt(plain, 0);
            byte[] json = io.backupkit.Codecs.byId(plain[4] & 0xff).decompress(plain, 5, plain.length - 5, rawLength);
            Manifest m = Json.MAPPER.readValue(json, Manifest.class);
            if (m.version() < 1 || m.version() > VERSION || m.streams() == null) {
                throw new IntegrityException(name, "snapshot manifest version " + m.version() + " is not supported (this backupkit reads 1-"
                        + VERSION + ")");
            }
            return m;
        } catch (IntegrityException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IntegrityException(name, "snapshot manifest is unreadable: " + e.getMessage(), e);
        }
    }
}
