package io.backupkit.internal.repo;

import io.backupkit.CheckReport;
import io.backupkit.Codecs;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.KeyProviders;
import io.backupkit.KeySlotInfo;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotSummary;
import io.backupkit.Storages;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Json;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Kdf;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The repository handle: keys, config, index and snapshot manifests over a {@link Storage}. */
public final class DefaultRepository implements Repository {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultRepository.class);
    private static final byte[] KDF_SALT = "backupkit repository v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final Storage storage;
    private final boolean ownsStorage;
    private final RepoConfig config;
    private final Sealer sealer;
    private final byte[] idKey;
    private final byte[] masterKey;
    private final String currentKeyName;
    private final CompressionCodec codec;
    private final FastCdcChunker chunker;
    private volatile BlobIndex dedupIndex;
    private volatile BlobIndex locationIndex;
    /** A few recently used manifests (a restore reads its manifest more than once); never all of them. */
    private final Map<String, Manifest> manifests = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Manifest> eldest) {
                    return size() > 16;
                }
            });
    private final ThreadLocal<Mac> macs;
    private volatile LockManager.Timing lockTiming = LockManager.Timing.DEFAULT;
    private volatile MetadataCache cache = MetadataCache.NONE;

    private DefaultRepository(Storage storage, boolean ownsStorage, RepoConfig config, byte[] masterKey,
                              String currentKeyName, CompressionCodec codecOverride) {
        this.storage = storage;
        this.ownsStorage = ownsStorage;
        this.config = config;
        this.masterKey = masterKey;
        this.currentKeyName = currentKeyName;
        if (masterKey != null) {
            this.sealer = Sealer.aesGcm(Kdf.hkdf(masterKey, KDF_SALT, "backupkit v1 data encryption", 32));
            this.idKey = Kdf.hkdf(masterKey, KDF_SALT, "backupkit v1 blob id", 32);
            this.macs = ThreadLocal.withInitial(() -> Hashes.hmac(idKey));
        } else {
            this.sealer = Sealer.checksumOnly();
            this.idKey = null;
            this.macs = null;
        }
        this.codec = codecOverride != null ? codecOverride
                : Codecs.byName(config.compression().codec() + ":" + config.compression().level());
        RepoConfig.Chunker c = config.chunker();
        this.chunker = new FastCdcChunker(c.min(), c.avg(), c.max(), c.normalization(), c.seed());
    }

    public static Repository.Builder builder() {
        return new RepositoryBuilder();
    }

    // ---- used by the pipeline ------------------------------------------------------------------

    public Sealer sealer() {
        return sealer;
    }

    public FastCdcChunker chunker() {
        return chunker;
    }

    public RepoConfig config() {
        return config;
    }

    /**
     * The blobs a backup may reuse (ids only, 30 bytes each), brought up to date with the index objects
     * written since it was last read.
     */
    public synchronized BlobIndex dedupIndex() {
        BlobIndex i = dedupIndex;
        if (i == null || !i.refresh(storage, this::readObject, sealer)) {
            i = BlobIndex.load(storage, this::readObject, sealer, false);
            dedupIndex = i;
        }
        return i;
    }

    /** Where every blob lies (46 bytes per blob), brought up to date; for restores, verification and checks. */
    public synchronized BlobIndex locationIndex() {
        BlobIndex i = locationIndex;
        if (i == null || !i.refresh(storage, this::readObject, sealer)) {
            i = BlobIndex.load(storage, this::readObject, sealer, true);
            locationIndex = i;
        }
        return i;
    }

    /** The blob id of {@code data[off, off+len)}. */
    public BlobId blobId(byte[] data, int off, int len) {
        if (macs == null) {
            return BlobId.of(Hashes.sha256(data, off, len));
        }
        Mac mac = macs.get();
        mac.update(data, off, len);
        return BlobId.of(mac.doFinal());
    }

    /**
     * A whole content-addressed object (index object or manifest), from the local cache when one is
     * configured and the cached copy is intact.
     */
    public byte[] readObject(String name) {
        return cache.object(name, () -> storage.readAll(name));
    }

    public MetadataCache cache() {
        return cache;
    }

    /** An index object written: its name and stored size. */
    public record IndexWrite(String name, long bytes) {
    }

    /**
     * Writes a pack index for packs that are already durable and adds it to the loaded views.
     *
     * @param kind    {@link IndexFile#CHECKPOINT}, {@link IndexFile#BACKUP} or {@link IndexFile#COMPACTED}
     * @param commits for a backup's last index: the names of its checkpoints
     */
    public IndexWrite writeIndex(int kind, List<String> commits, List<PackEntry> packs) {
        if (packs.isEmpty() && commits.isEmpty()) {
            return new IndexWrite(null, 0);
        }
        byte[] stored = IndexFile.encode(kind, commits, packs, sealer);
        String name = Formats.INDEX + Hashes.sha256Hex(stored);
        storage.putIfAbsent(name, Payload.of(stored));
        cache.put(name, stored);
        BlobIndex d = dedupIndex;
        if (d != null) {
            d.add(name, packs);
        }
        BlobIndex l = locationIndex;
        if (l != null) {
            l.add(name, packs);
        }
        return new IndexWrite(name, stored.length);
    }

    /** Writes a manifest (the commit point of a backup); returns the snapshot id and stored size. */
    public Map.Entry<String, Long> writeManifest(Manifest manifest) {
        byte[] stored = manifest.encode(sealer);
        String name = Manifest.nameOf(stored);
        storage.putIfAbsent(name, Payload.of(stored));
        cache.put(name, stored);
        manifests.put(name, manifest);
        return Map.entry(Formats.idOf(name), (long) stored.length);
    }

    /** Deletes a snapshot's manifest (forget); its data stays until a prune. */
    public void forgetSnapshot(String snapshotId) {
        String name = Formats.SNAPSHOTS + snapshotId;
        storage.delete(name);
        manifests.remove(name);
    }

    /** The manifest of a snapshot id. */
    public Manifest manifest(String snapshotId) {
        String name = Formats.SNAPSHOTS + snapshotId;
        return manifests.computeIfAbsent(name, n -> Manifest.decode(n, readObject(n), sealer));
    }

    public LockManager locks() {
        return new LockManager(storage, sealer, java.time.Clock.systemUTC(), lockTiming);
    }

    // ---- Repository ----------------------------------------------------------------------------

    @Override
    public String id() {
        return config.id();
    }

    @Override
    public String location() {
        return storage.location();
    }

    @Override
    public boolean encrypted() {
        return masterKey != null;
    }

    @Override
    public CompressionCodec compression() {
        return codec;
    }

    @Override
    public Storage storage() {
        return storage;
    }

    @Override
    public Snapshots snapshots() {
        return new Snapshots() {
            @Override
            public List<Snapshot> list() {
                List<Snapshot> all = new ArrayList<>();
                for (ObjectInfo o : storage.list(Formats.SNAPSHOTS)) {
                    all.add(manifest(Formats.idOf(o.name())).toSnapshot(Formats.idOf(o.name())));
                }
                all.sort(Comparator.comparing(Snapshot::time).thenComparing(Snapshot::id));
                return all;
            }

            @Override
            public Snapshot get(String idPrefixOrLatest) {
                String id = resolveSnapshotId(idPrefixOrLatest);
                return manifest(id).toSnapshot(id);
            }

            @Override
            public List<SnapshotSummary> summaries() {
                List<SnapshotSummary> all = new ArrayList<>();
                for (ObjectInfo o : storage.list(Formats.SNAPSHOTS)) {
                    String id = Formats.idOf(o.name());
                    Manifest m;
                    try {
                        Manifest cached = manifests.get(o.name());
                        m = cached != null ? cached : Manifest.decode(o.name(), readObject(o.name()), sealer);
                    } catch (ObjectNotFoundException forgotten) {
                        continue;
                    }
                    // the manifest (metadata, stream lists) is dropped here: memory stays flat however many snapshots
                    all.add(new SnapshotSummary(id, m.time(), m.hostname(), m.engine(), m.source(),
                            SnapshotSummary.databaseOf(m.metadata(), m.source()), m.tags() == null ? Map.of() : m.tags(),
                            m.bytesRead(), m.bytesStored(), m.streams().size()));
                }
                all.sort(Comparator.comparing(SnapshotSummary::time).thenComparing(SnapshotSummary::id));
                return all;
            }

            @Override
            public Optional<Snapshot> latest() {
                List<Snapshot> all = list();
                return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
            }
        };
    }

    /** Resolves "latest", a full id or a unique prefix to a full snapshot id. */
    public String resolveSnapshotId(String idPrefixOrLatest) {
        if (idPrefixOrLatest == null || idPrefixOrLatest.isBlank()) {
            throw new ConfigurationException("no snapshot given");
        }
        if (idPrefixOrLatest.equals("latest")) {
            return snapshots().latest().map(Snapshot::id)
                    .orElseThrow(() -> new ConfigurationException("repository " + location() + " has no snapshots yet"));
        }
        if (!idPrefixOrLatest.matches("[0-9a-f]{1,64}")) {
            throw new ConfigurationException("'" + idPrefixOrLatest + "' is not a snapshot id (hex digits) or 'latest'");
        }
        List<String> matches = storage.list(Formats.SNAPSHOTS + idPrefixOrLatest).stream()
                .map(o -> Formats.idOf(o.name())).toList();
        if (matches.isEmpty()) {
            throw new ConfigurationException("no snapshot " + idPrefixOrLatest + " in " + location());
        }
        if (matches.size() > 1) {
            throw new ConfigurationException("snapshot prefix " + idPrefixOrLatest + " is ambiguous: "
                    + matches.stream().map(m -> m.substring(0, 12)).toList());
        }
        return matches.get(0);
    }

    @Override
    public Keys keys() {
        return new Keys() {
            @Override
            public List<KeySlotInfo> list() {
                List<KeySlotInfo> out = new ArrayList<>();
                for (ObjectInfo o : storage.list(Formats.KEYS)) {
                    KeySlotFile f = readKeySlot(storage, o.name());
                    out.add(new KeySlotInfo(Formats.idOf(o.name()), f.type(), f.created(), f.host(), o.name().equals(currentKeyName)));
                }
                out.sort(Comparator.comparing(KeySlotInfo::created));
                return out;
            }

            @Override
            public KeySlotInfo add(KeyProvider provider) {
                if (masterKey == null) {
                    throw new ConfigurationException("repository " + location() + " is not encrypted; it has no key slots");
                }
                String name = writeKeySlot(storage, provider.wrap(masterKey));
                KeySlotFile f = readKeySlot(storage, name);
                return new KeySlotInfo(Formats.idOf(name), f.type(), f.created(), f.host(), false);
            }

            @Override
            public void remove(String idOrPrefix) {
                List<KeySlotInfo> all = list();
                List<KeySlotInfo> matches = all.stream().filter(k -> k.id().startsWith(idOrPrefix)).toList();
                if (idOrPrefix.isBlank() || matches.isEmpty()) {
                    throw new ConfigurationException("no key slot " + idOrPrefix + " in " + location());
                }
                if (matches.size() > 1) {
                    throw new ConfigurationException("key slot prefix " + idOrPrefix + " is ambiguous");
                }
                if (all.size() == 1) {
                    throw new ConfigurationException("key slot " + matches.get(0).id().substring(0, 8)
                            + " is the last one; add another before removing it, or the repository cannot be opened again");
                }
                storage.delete(Formats.KEYS + matches.get(0).id());
            }
        };
    }

    @Override
    public CheckReport check() {
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (ObjectInfo o : storage.list(Formats.KEYS)) {
            try {
                readKeySlot(storage, o.name());
            } catch (IntegrityException e) {
                errors.add(e.getMessage());
            }
        }
        BlobIndex fresh = BlobIndex.loadTolerant(storage, this::readObject, sealer, errors);
        Map<String, Long> stored = new HashMap<>();
        for (ObjectInfo o : storage.list(Formats.DATA)) {
            stored.put(o.name(), o.size());
        }
        Map<String, Long> indexed = fresh.packs();
        indexed.forEach((pack, size) -> {
            Long actual = stored.get(pack);
            if (actual == null) {
                if (fresh.isObsolete(pack)) {
                    warnings.add(pack + ": pack marked for deletion is already gone (a prune was interrupted; the next prune tidies up)");
                } else {
                    errors.add(pack + ": indexed pack is missing");
                }
            } else if (actual.longValue() != size) {
                errors.add(pack + ": pack has " + actual + " bytes, its index says " + size);
            }
        });
        Set<String> unindexed = new HashSet<>(stored.keySet());
        unindexed.removeAll(indexed.keySet());
        for (String p : unindexed) {
            warnings.add(p + ": pack is in no index (left by an interrupted backup or prune; prune removes it)");
        }
        int snapshots = 0;
        BlobReader reader = new BlobReader(this, fresh);
        for (ObjectInfo o : storage.list(Formats.SNAPSHOTS)) {
            snapshots++;
            try {
                Manifest m = Manifest.decode(o.name(), readObject(o.name()), sealer);
                long missing = 0;
                for (Manifest.StreamEntry s : m.streams()) {
                    BlobReader.StreamIds ids = reader.ids(s, o.name());
                    while (ids.hasNext()) {
                        if (!fresh.contains(ids.next())) {
                            missing++;
                        }
                    }
                }
                if (missing > 0) {
                    errors.add(o.name() + ": " + missing + " referenced blobs are in no index");
                }
            } catch (IntegrityException e) {
                errors.add(e.getMessage());
            } catch (ObjectNotFoundException e) {
                // forgotten while we listed
                snapshots--;
            }
        }
        return new CheckReport(snapshots, indexed.size(), fresh.blobCount(), errors, warnings);
    }

    @Override
    public void close() {
        if (ownsStorage) {
            storage.close();
        }
        if (masterKey != null) {
            Arrays.fill(masterKey, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "Repository[" + location() + "]";
    }

    // ---- key slots and config ------------------------------------------------------------------

    static KeySlotFile readKeySlot(Storage storage, String name) {
        byte[] stored = storage.readAll(name);
        Formats.checkContentHash(name, stored);
        try {
            return Json.MAPPER.readValue(stored, KeySlotFile.class);
        } catch (IOException e) {
            throw new IntegrityException(name, "key slot is unreadable", e);
        }
    }

    static String writeKeySlot(Storage storage, KeySlot slot) {
        try {
            byte[] stored = Json.MAPPER.writeValueAsBytes(KeySlotFile.of(slot, HostName.get()));
            String name = Formats.KEYS + Hashes.sha256Hex(stored);
            storage.putIfAbsent(name, Payload.of(stored));
            return name;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encodeConfig(RepoConfig config, Sealer sealer, boolean encrypted) {
        try {
            byte[] sealed = sealer.seal(Json.MAPPER.writeValueAsBytes(config), Formats.AD_CONFIG);
            byte[] out = new byte[5 + sealed.length];
            System.arraycopy(Formats.CONFIG_MAGIC, 0, out, 0, 4);
            out[4] = (byte) (encrypted ? 1 : 0);
            System.arraycopy(sealed, 0, out, 5, sealed.length);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RepoConfig decodeConfig(byte[] stored, Sealer sealer) {
        byte[] json = sealer.open(stored, 5, stored.length - 5, Formats.AD_CONFIG)
                .orElseThrow(() -> new IntegrityException(Formats.CONFIG, "config fails authentication; the object is damaged"));
        try {
            RepoConfig c = Json.MAPPER.readValue(json, RepoConfig.class);
            if (c.version() != 1) {
                throw new ConfigurationException("repository format version " + c.version() + " is not supported by this backupkit (reads version 1)");
            }
            return c;
        } catch (IOException e) {
            throw new IntegrityException(Formats.CONFIG, "config is unreadable", e);
        }
    }

    /** Builds {@link DefaultRepository} handles. */
    public static final class RepositoryBuilder implements Repository.Builder {
        private Storage storage;
        private String location;
        private KeyProvider keyProvider;
        private boolean unencrypted;
        private CompressionCodec codec;
        private int packSize = 16 * 1024 * 1024;
        private int minChunk = 256 * 1024;
        private int avgChunk = 1024 * 1024;
        private int maxChunk = 4 * 1024 * 1024;
        private Long chunkerSeed;
        private LockManager.Timing lockTiming = LockManager.Timing.DEFAULT;
        private Path cacheDirectory;

        @Override
        public RepositoryBuilder cacheDirectory(Path directory) {
            this.cacheDirectory = directory;
            return this;
        }

        /**
         * How often this handle refreshes its locks, when it gives up a lock it cannot refresh, and when
         * it considers others' locks stale. The defaults (5, 15, 30 minutes) suit production; tests shorten them.
         */
        public RepositoryBuilder lockTiming(LockManager.Timing timing) {
            this.lockTiming = java.util.Objects.requireNonNull(timing);
            return this;
        }

        /**
         * Fixes the chunker's gear seed of a new repository (normally random per repository, so chunk
         * boundaries reveal nothing across repositories). For reproducible tests and benchmarks only.
         */
        public RepositoryBuilder chunkerSeed(long seed) {
            this.chunkerSeed = seed;
            return this;
        }

        @Override
        public Builder storage(Storage storage) {
            this.storage = storage;
            return this;
        }

        @Override
        public Builder location(String location) {
            this.location = location;
            return this;
        }

        @Override
        public Builder password(char[] password) {
            this.keyProvider = KeyProviders.password(password);
            return this;
        }

        @Override
        public Builder keyFile(Path keyFile) {
            this.keyProvider = KeyProviders.keyFile(keyFile);
            return this;
        }

        @Override
        public Builder keyProvider(KeyProvider provider) {
            this.keyProvider = provider;
            return this;
        }

        @Override
        public Builder unencrypted() {
            this.unencrypted = true;
            return this;
        }

        @Override
        public Builder compression(CompressionCodec codec) {
            this.codec = codec;
            return this;
        }

        @Override
        public Builder compression(String spec) {
            this.codec = Codecs.byName(spec);
            return this;
        }

        @Override
        public Builder packSize(int bytes) {
            if (bytes < 1024 * 1024 || bytes > 64 * 1024 * 1024) {
                throw new ConfigurationException("pack size must be between 1 MiB and 64 MiB, was " + bytes);
            }
            this.packSize = bytes;
            return this;
        }

        @Override
        public Builder chunkSizes(int min, int average, int max) {
            try {
                new FastCdcChunker(min, average, max, FastCdcChunker.DEFAULT_NORMALIZATION, 0);
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(e.getMessage());
            }
            if (max > 16 * 1024 * 1024) {
                throw new ConfigurationException("maximum chunk size must be at most 16 MiB, was " + max);
            }
            this.minChunk = min;
            this.avgChunk = average;
            this.maxChunk = max;
            return this;
        }

        private Storage storage() {
            if (storage != null) {
                return storage;
            }
            if (location == null) {
                throw new ConfigurationException("give the repository a location or a storage");
            }
            return Storages.open(location);
        }

        @Override
        public Repository create() {
            Storage s = storage();
            try {
                return create(s, storage == null);
            } catch (RuntimeException e) {
                closeIfOwned(s);
                throw e;
            }
        }

        private Repository create(Storage s, boolean owns) {
            if (s.stat(Formats.CONFIG).isPresent()) {
                throw new ConfigurationException("a repository already exists at " + s.location());
            }
            if (!unencrypted && keyProvider == null) {
                throw new ConfigurationException("give a password, key file or key provider to encrypt the new repository, or choose unencrypted()");
            }
            if (unencrypted && keyProvider != null) {
                throw new ConfigurationException("unencrypted() and a password/key were both given; choose one");
            }
            CompressionCodec c = codec == null ? Codecs.defaultCodec() : codec;
            RepoConfig config = new RepoConfig(1, Hashes.hex(Aead.randomBytes(16)), unencrypted ? "none" : "aes-256-gcm",
                    new RepoConfig.Chunker("fastcdc", minChunk, avgChunk, maxChunk, FastCdcChunker.DEFAULT_NORMALIZATION,
                            chunkerSeed != null ? chunkerSeed : new java.security.SecureRandom().nextLong()),
                    new RepoConfig.Compression(c.name(), c.level()), packSize, Instant.now());
            byte[] master = null;
            String keyName = null;
            Sealer sealer = Sealer.checksumOnly();
            if (!unencrypted) {
                master = Aead.randomBytes(32);
                keyName = writeKeySlot(s, keyProvider.wrap(master));
                sealer = Sealer.aesGcm(Kdf.hkdf(master, KDF_SALT, "backupkit v1 data encryption", 32));
            }
            if (!s.putIfAbsent(Formats.CONFIG, Payload.of(encodeConfig(config, sealer, !unencrypted)))) {
                if (keyName != null) {
                    s.delete(keyName);
                }
                throw new ConfigurationException("a repository was created at " + s.location() + " at the same time");
            }
            LOG.info("created repository {} at {}", config.id(), s.location());
            return withTiming(new DefaultRepository(s, owns, config, master, keyName, codec));
        }

        @Override
        public Repository open() {
            Storage s = storage();
            try {
                return open(s, storage == null);
            } catch (RuntimeException e) {
                closeIfOwned(s);
                throw e;
            }
        }

        private Repository open(Storage s, boolean owns) {
            byte[] stored;
            try {
                stored = s.readAll(Formats.CONFIG);
            } catch (ObjectNotFoundException e) {
                throw new ConfigurationException("no repository at " + s.location() + " (no config object); create one first");
            }
            if (stored.length < 5 || !Arrays.equals(Arrays.copyOf(stored, 4), Formats.CONFIG_MAGIC) || stored[4] > 1 || stored[4] < 0) {
                throw new IntegrityException(Formats.CONFIG, "not a backupkit config (bad header)");
            }
            boolean encrypted = stored[4] == 1;
            if (!encrypted) {
                if (keyProvider != null) {
                    LOG.warn("repository {} is not encrypted; ignoring the given {}", s.location(), keyProvider.describe());
                }
                RepoConfig config = decodeConfig(stored, Sealer.checksumOnly());
                return withTiming(new DefaultRepository(s, owns, config, null, null, codec));
            }
            if (keyProvider == null) {
                throw new ConfigurationException("repository " + s.location() + " is encrypted: give a password, key file or key provider");
            }
            IntegrityException damaged = null;
            int slots = 0;
            for (ObjectInfo o : s.list(Formats.KEYS)) {
                KeySlotFile f;
                try {
                    f = readKeySlot(s, o.name());
                } catch (IntegrityException e) {
                    damaged = e;
                    continue;
                }
                slots++;
                if (!f.type().equals(keyProvider.type())) {
                    continue;
                }
                Optional<byte[]> master = keyProvider.unwrap(f.toSlot());
                if (master.isPresent()) {
                    Sealer sealer = Sealer.aesGcm(Kdf.hkdf(master.get(), KDF_SALT, "backupkit v1 data encryption", 32));
                    RepoConfig config = decodeConfig(stored, sealer);
                    return withTiming(new DefaultRepository(s, owns, config, master.get(), o.name(), codec));
                }
            }
            if (damaged != null) {
                throw damaged;
            }
            throw new KeyException("wrong " + keyProvider.describe() + ": none of the " + slots + " key slots of repository "
                    + s.location() + " opens with it");
        }

        @Override
        public Repository openOrCreate() {
            Storage s = storage();
            boolean exists;
            try {
                exists = s.stat(Formats.CONFIG).isPresent();
            } catch (RuntimeException e) {
                closeIfOwned(s);
                throw e;
            }
            try {
                return exists ? open(s, storage == null) : create(s, storage == null);
            } catch (RuntimeException e) {
                closeIfOwned(s);
                throw e;
            }
        }

        private DefaultRepository withTiming(DefaultRepository r) {
            r.lockTiming = lockTiming;
            if (cacheDirectory != null) {
                r.cache = MetadataCache.at(cacheDirectory, r.config.id());
            }
            return r;
        }

        private void closeIfOwned(Storage s) {
            if (storage == null) {
                s.close();
            }
        }
    }
}
