package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.internal.Json;
import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;

import com.github.luben.zstd.ZstdInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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
    public static final int VERSION = Formats.MANIFEST_VERSION;

    /**
     * A stream: name, plaintext size and digest, and its blob ids: in version 2 the ids (hex) of the list
     * blobs that hold them ({@code blobLists}, with {@code blobCount}); in version 1 the ids themselves
     * ({@code blobs}).
     *
     * @param sha256 hex digest of the stream's content, as {@code digest} says
     * @param digest null: {@code sha256} is the SHA-256 of the whole plaintext (repository format version 1);
     *               {@link #DIGEST_CHUNKS}: the SHA-256 over the SHA-256 digests of the stream's chunks, in
     *               order (written by repositories that hash each chunk once, format version 2)
     */
    public record StreamEntry(String name, long size, String sha256, List<String> blobs, long blobCount, List<String> blobLists,
                              String digest) {
        /** {@code digest} of a stream whose {@code sha256} is computed over its chunks' SHA-256 digests. */
        public static final String DIGEST_CHUNKS = SnapshotStream.SHA256_CHUNKS;

        /** A version 2 entry whose {@code sha256} is over the whole plaintext. */
        public static StreamEntry of(String name, long size, String sha256, long blobCount, List<String> blobLists) {
            return of(name, size, sha256, blobCount, blobLists, null);
        }

        /** A version 2 entry; {@code digest} as in the record's description. */
        public static StreamEntry of(String name, long size, String sha256, long blobCount, List<String> blobLists,
                                     String digest) {
            return new StreamEntry(name, size, sha256, null, blobCount, List.copyOf(blobLists), digest);
        }

        /** Whether {@code sha256} is over the chunks' digests rather than the whole plaintext. */
        public boolean overChunks() {
            return DIGEST_CHUNKS.equals(digest);
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
                streams.stream().map(s -> new SnapshotStream(s.name(), s.size(), s.sha256(), (int) s.count(),
                        s.overChunks() ? SnapshotStream.SHA256_CHUNKS : SnapshotStream.SHA256)).toList(),
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

    /** Largest manifest JSON read (a stream of 1 TiB in 1 MiB chunks lists about 70 MB of ids). */
    public static final int MAX_JSON_BYTES = 1 << 30;

    /**
     * Reads a stored manifest: content hash against the name, seal, header, zstd, JSON, version and
     * structure. Lengths come from storage, so nothing is allocated ahead of the data actually read.
     *
     * @throws IntegrityException                  for a damaged or malformed manifest
     * @throws io.backupkit.ConfigurationException for a version this backupkit does not read
     */
    public static Manifest decode(String name, byte[] stored, Sealer sealer) {
        Formats.checkContentHash(name, stored);
        byte[] plain = sealer.open(stored, Formats.AD_SNAPSHOT)
                .orElseThrow(() -> new IntegrityException(name, "snapshot manifest fails authentication"));
        if (plain.length < 5) {
            throw new IntegrityException(name, "snapshot manifest is truncated: " + plain.length + " bytes");
        }
        int rawLength = Formats.getInt(plain, 0);
        if (rawLength < 0 || rawLength > MAX_JSON_BYTES) {
            throw new IntegrityException(name, "snapshot manifest records a JSON length of " + rawLength + " bytes; 0-"
                    + MAX_JSON_BYTES + " are read");
        }
        int codec = plain[4] & 0xff;
        if (codec != BuiltinCodecs.ZSTD.id()) {
            throw new IntegrityException(name, "snapshot manifest codec id is " + codec + "; manifests are zstd ("
                    + BuiltinCodecs.ZSTD.id() + ")");
        }
        byte[] json;
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(plain, 5, plain.length - 5))) {
            // readNBytes grows with what actually decompresses, not with the recorded length
            json = in.readNBytes(rawLength);
            if (json.length != rawLength || in.read() != -1) {
                throw new IntegrityException(name, "snapshot manifest does not decompress to its recorded " + rawLength + " bytes");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof IntegrityException i) {
                throw i;
            }
            throw new IntegrityException(name, "snapshot manifest does not decompress: " + e.getMessage(), e);
        }
        Manifest m;
        try {
            m = Json.MAPPER.readValue(json, Manifest.class);
        } catch (IOException e) {
            throw new IntegrityException(name, "snapshot manifest is unreadable: " + RepoConfig.firstLine(e.getMessage()), e);
        }
        if (m == null) {
            throw new IntegrityException(name, "snapshot manifest is empty");
        }
        if (m.version() != 1) {
            // version 1 (every blob id inline) is still read; anything else must be this code's
            Formats.checkVersion(name, "snapshot manifest", m.version(), Formats.MANIFEST_VERSION);
        }
        m.validate(name);
        return m;
    }

    private static final java.util.regex.Pattern HEX64 = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    /** Structure every reader relies on: streams with names, sizes, digests and well-formed blob ids. */
    private void validate(String name) {
        if (time == null || engine == null || streams == null) {
            throw new IntegrityException(name, "snapshot manifest lacks its time, engine or streams");
        }
        if (tags != null && (tags.containsValue(null) || tags.containsKey(null))) {
            throw new IntegrityException(name, "snapshot manifest has a tag without a value");
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        for (StreamEntry s : streams) {
            boolean v1 = version == 1;
            if (s == null || s.name() == null || s.name().isEmpty() || s.sha256() == null
                    || (v1 ? s.blobs() == null : s.blobLists() == null || s.blobs() != null || s.blobCount() < 0)) {
                throw new IntegrityException(name, "snapshot manifest has a stream without name, SHA-256 or blob list");
            }
            if (!names.add(s.name())) {
                throw new IntegrityException(name, "snapshot manifest lists stream " + s.name() + " twice");
            }
            if (s.size() < 0 || !HEX64.matcher(s.sha256()).matches()) {
                throw new IntegrityException(name, "snapshot manifest's stream " + s.name() + " has an invalid size or SHA-256");
            }
            if (s.digest() != null && !s.overChunks()) {
                throw new io.backupkit.ConfigurationException(name + ": stream " + s.name() + " has a digest of kind \""
                        + Formats.printable(s.digest().getBytes(java.nio.charset.StandardCharsets.UTF_8), 0, 40)
                        + "\", which this backupkit does not know (it knows " + StreamEntry.DIGEST_CHUNKS
                        + "); upgrade backupkit to read it");
            }
            for (String b : v1 ? s.blobs() : s.blobLists()) {
                if (b == null || !HEX64.matcher(b).matches()) {
                    throw new IntegrityException(name, "snapshot manifest's stream " + s.name() + " lists an invalid blob id");
                }
            }
        }
    }
}
