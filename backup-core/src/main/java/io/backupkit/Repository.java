package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.Storage;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A backupkit repository: deduplicated, compressed, encrypted snapshots in some {@link Storage}.
 * Open one handle and share it; it is thread-safe. Closing it closes the storage it opened (not a
 * storage given to the builder).
 *
 * <pre>{@code
 * try (Repository repo = Repository.builder()
 *         .location("/var/backups/shop")          // or "s3://bucket/prefix?region=eu-west-1"
 *         .password(System.getenv("BACKUPKIT_PASSWORD").toCharArray())
 *         .openOrCreate()) {
 *     repo.snapshots().list().forEach(s -> System.out.println(s.shortId() + " " + s.time()));
 * }
 * }</pre>
 */
public interface Repository extends AutoCloseable {

    static Builder builder() {
        return DefaultRepository.builder();
    }

    /** The repository id, random at creation (hex). */
    String id();

    /** Where it lives, without credentials. */
    String location();

    /** False only for repositories created with {@link Builder#unencrypted()}. */
    boolean encrypted();

    /** The codec new blobs are compressed with. */
    CompressionCodec compression();

    /** The storage this repository uses. */
    Storage storage();

    Snapshots snapshots();

    Keys keys();

    /**
     * Checks the repository's structure: every snapshot readable, every blob a snapshot references
     * indexed, every indexed pack present with the size its index implies, every index and key slot
     * undamaged. Of pack contents it reads only the snapshots' blob lists; use {@link Verifier} or
     * {@link RepositoryChecker} to read data.
     */
    CheckReport check();

    /**
     * Small sealed records that modules built on the repository keep beside its snapshots (the
     * scheduler's claims and run history, restore drills): authenticated with the repository's data
     * key, and encrypted when the repository is, so whoever can write the storage can neither read
     * nor silently alter them.
     */
    Records records();

    @Override
    void close();

    /** Reads snapshot manifests. */
    interface Snapshots {
        /** All snapshots, oldest first. */
        List<Snapshot> list();

        /**
         * Summaries of all snapshots, oldest first: what retention and listings need, without engine metadata
         * or streams, so memory does not depend on the snapshots' contents.
         */
        List<SnapshotSummary> summaries();

        /**
         * A snapshot by id, unique id prefix, or "latest".
         *
         * @throws ConfigurationException when none or several match
         */
        Snapshot get(String idPrefixOrLatest);

        Optional<Snapshot> latest();
    }

    /** The key slots that wrap the master key. Changing a password is add + remove. */
    interface Keys {
        List<KeySlotInfo> list();

        /** Adds a slot that opens the repository with {@code provider}'s secret; no data is rewritten. */
        KeySlotInfo add(KeyProvider provider);

        /**
         * Removes a slot by id or unique prefix.
         *
         * @throws ConfigurationException for the last remaining slot
         */
        void remove(String idOrPrefix);
    }

    /**
     * Write-once records under {@code records/}. A record is sealed together with its name, so it
     * cannot be moved to another name unnoticed. Names are '/'-separated segments of
     * {@code [A-Za-z0-9._-]}.
     *
     * <pre>{@code
     * boolean mine = repo.records().create("ops/nightly/claims/1767236400", json);   // false: someone was first
     * }</pre>
     */
    interface Records {
        /**
         * Writes a record unless one of that name exists (atomically, like {@link Storage#putIfAbsent}).
         *
         * @return true if written, false if the name was taken (nothing changed)
         */
        boolean create(String name, byte[] content);

        /**
         * The content of a record, empty when there is none.
         *
         * @throws IntegrityException when the stored record was altered, damaged or moved
         */
        Optional<byte[]> read(String name);

        /** Names of the records whose name starts with {@code prefix}, in no fixed order. */
        List<String> list(String prefix);

        /** Removes a record; removing a missing one is not an error. */
        void delete(String name);
    }

    /** Configures and opens or creates a repository. Not thread-safe; build once. */
    interface Builder {
        /** Storage to use; wins over {@link #location(String)}. Not closed by the repository. */
        Builder storage(Storage storage);

        /** A path, {@code file:} URI or any URI a {@link io.backupkit.spi.StorageProvider} handles ({@code s3://…}). */
        Builder location(String location);

        /** Opens (or creates) the repository with a password slot (Argon2id). The array is copied: wipe yours afterwards. */
        Builder password(char[] password);

        /** Opens (or creates) the repository with a key file slot. */
        Builder keyFile(Path keyFile);

        /** Opens (or creates) the repository with any key provider (KMS, …). */
        Builder keyProvider(KeyProvider provider);

        /** Creates a repository without encryption; blobs are still checksummed. */
        Builder unencrypted();

        /** Codec for new blobs; default: the repository's (a new repository: zstd level 1, {@link io.backupkit.Codecs#defaultCodec()}). */
        Builder compression(CompressionCodec codec);

        /** Codec by name with optional level: "zstd", "zstd:9", "gzip", "lz4", "xz", "bzip2", "none". */
        Builder compression(String spec);

        /**
         * Keeps a local copy of the repository's immutable metadata (index objects, snapshot manifests, blob
         * lists) in {@code directory/<repository id>}, so listing snapshots and pruning cost requests only for
         * what changed. Every cached object is checked again when read; a damaged one is fetched again.
         * With a password it also keeps the key slot that opened the repository (no secret), so that the next
         * open starts deriving the key before the storage answers; a slot no longer listed in the repository
         * is never used. Default: no cache (the CLI uses {@code ~/.cache/backupkit}).
         */
        Builder cacheDirectory(Path directory);

        /** Target pack size for a new repository, 16–64 MiB (default 16 MiB). */
        Builder packSize(int bytes);

        /**
         * Chunk sizes for a new repository (FastCDC): min ≤ average ≤ max, average a power of two.
         * Default 256 KiB / 1 MiB / 4 MiB.
         */
        Builder chunkSizes(int min, int average, int max);

        Repository create();

        Repository open();

        /** Opens the repository if it exists, creates it otherwise. */
        Repository openOrCreate();
    }
}
