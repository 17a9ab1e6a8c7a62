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
import io.backupkit.internal.Futures;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Json;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Kdf;
import io.backupkit.internal.crypto.PasswordKeyProvider;
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
import java.time.Duration;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

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
    /** The snapshot id {@link #resolveSnapshotId} returned last, and when (System.nanoTime); null before. */
    private volatile Resolved lastResolved;
    private final ThreadLocal<Mac> macs;
    private volatile LockManager.Timing lockTiming = LockManager.Timing.DEFAULT;
    private volatile MetadataCache cache = MetadataCache.NONE;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DefaultRepository(Storage storage, boolean ownsStorage, RepoConfig config, byte[] masterKey,
                              String currentKeyName, CompressionCodec codecOverride) {
        this.storage = storage;
        this.ownsStorage = ownsStorage;
        this.config = config;
        this.masterKey = masterKey;
        this.currentKeyName = currentKeyName;
        if (masterKey != null) {
            this.sealer = dataSealer(masterKey);
            // a version 2 id is an HMAC over a digest, not over the plaintext: its own key keeps the two apart
            this.idKey = Kdf.hkdf(masterKey, KDF_SALT, config.hashesChunksOnce() ? "backupkit v2 blob id" : "backupkit v1 blob id", 32);
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

    /**
     * Every operation starts here: after {@link #close()} the master key is wiped, so a slot added now
     * would wrap zeros and a backup would write with a handle that no longer owns its storage.
     */
    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("repository " + storage.location() + " is closed; open it again");
        }
    }

    // ---- used by the pipeline ------------------------------------------------------------------

    public Sealer sealer() {
        ensureOpen();
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
        ensureOpen();
        BlobIndex i = dedupIndex;
        if (i == null || !i.refresh(storage, this::readObject, sealer)) {
            i = BlobIndex.load(storage, this::readObject, sealer, false);
            dedupIndex = i;
        }
        return i;
    }

    /** Where every blob lies (46 bytes per blob), brought up to date; for restores, verification and checks. */
    public synchronized BlobIndex locationIndex() {
        ensureOpen();
        BlobIndex i = locationIndex;
        if (i == null || !i.refresh(storage, this::readObject, sealer)) {
            i = BlobIndex.load(storage, this::readObject, sealer, true);
            locationIndex = i;
        }
        return i;
    }

    /**
     * The blob id of {@code data[off, off+len)} under this repository's rules: version 1, HMAC-SHA256 of
     * the plaintext; version 2, {@link #blobIdOfDigest} of its SHA-256. Unencrypted: SHA-256 of the plaintext.
     */
    public BlobId blobId(byte[] data, int off, int len) {
        ensureOpen();
        if (macs == null) {
            return BlobId.of(Hashes.sha256(data, off, len));
        }
        if (config.hashesChunksOnce()) {
            return blobIdOfDigest(Hashes.sha256(data, off, len));
        }
        Mac mac = macs.get();
        mac.update(data, off, len);
        return BlobId.of(mac.doFinal());
    }

    /**
     * The blob id of a chunk whose SHA-256 is {@code sha256}, in a repository that hashes each chunk once
     * ({@link RepoConfig#hashesChunksOnce()}): HMAC-SHA256(blob-id key, SHA-256(chunk)); unencrypted, the
     * SHA-256 itself. Costs one HMAC over 32 bytes instead of a pass over the chunk.
     *
     * @throws IllegalStateException in a version 1 repository, whose ids are HMACs over the plaintext
     */
    public BlobId blobIdOfDigest(byte[] sha256) {
        ensureOpen();
        if (macs == null) {
            return BlobId.of(sha256);
        }
        if (!config.hashesChunksOnce()) {
            throw new IllegalStateException("repository " + config.id() + " is format version " + config.version()
                    + ": its blob ids are computed over the plaintext");
        }
        Mac mac = macs.get();
        mac.update(sha256);
        return BlobId.of(mac.doFinal());
    }

    /** Whether streams hash each chunk once ({@link RepoConfig#hashesChunksOnce()}). */
    public boolean hashesChunksOnce() {
        return config.hashesChunksOnce();
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
        ensureOpen();
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
        ensureOpen();
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
        ensureOpen();
        String name = Formats.SNAPSHOTS + snapshotId;
        return manifests.computeIfAbsent(name, n -> Manifest.decode(n, readObject(n), sealer));
    }

    public LockManager locks() {
        ensureOpen();
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
        ensureOpen();
        return new Snapshots() {
            @Override
            public List<Snapshot> list() {
                ensureOpen();
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

    private record Resolved(String id, long atNanos) {
    }

    /** How long a resolved snapshot id counts as {@link #resolvedJustNow just resolved}. */
    private static final Duration RESOLVED_FOR = Duration.ofSeconds(10);

    /**
     * Whether {@code id} is the full id this handle's last {@link #resolveSnapshotId} returned, less than 10 s ago:
     * its listing found it then, so a caller about to read it need not list it again. Not longer: another
     * process may forget snapshots meanwhile, and only a listing tells (a cached manifest does not).
     */
    public boolean resolvedJustNow(String id) {
        Resolved r = lastResolved;
        return r != null && r.id().equals(id) && System.nanoTime() - r.atNanos() < RESOLVED_FOR.toNanos();
    }

    /** Resolves "latest", a full id or a unique prefix to a full snapshot id. */
    public String resolveSnapshotId(String idPrefixOrLatest) {
        String id = resolve(idPrefixOrLatest);
        lastResolved = new Resolved(id, System.nanoTime());
        return id;
    }

    private String resolve(String idPrefixOrLatest) {
        ensureOpen();
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
        ensureOpen();
        return new Keys() {
            @Override
            public List<KeySlotInfo> list() {
                ensureOpen();
                List<KeySlotInfo> out = new ArrayList<>();
                for (ObjectInfo o : storage.list(Formats.KEYS)) {
                    KeySlotFile f;
                    try {
                        f = KeySlotFile.decode(o.name(), storage.readAll(o.name()));
                    } catch (IntegrityException | ConfigurationException e) {
                        // one bad slot must not hide the others; check() reports it, remove() can delete it
                        LOG.warn("not listing key slot: {}", e.getMessage());
                        continue;
                    } catch (ObjectNotFoundException gone) {
                        continue;
                    }
                    out.add(new KeySlotInfo(Formats.idOf(o.name()), f.type(), f.created(), f.host(), o.name().equals(currentKeyName)));
                }
                out.sort(Comparator.comparing(KeySlotInfo::created));
                return out;
            }

            @Override
            public KeySlotInfo add(KeyProvider provider) {
                ensureOpen();
                if (masterKey == null) {
                    throw new ConfigurationException("repository " + location() + " is not encrypted; it has no key slots");
                }
                String name = writeKeySlot(storage, provider.wrap(masterKey), config.id());
                // read back what storage holds and open it again: only a slot that gives back this
                // repository's key is reported as added
                try {
                    KeySlotFile f = KeySlotFile.decode(name, storage.readAll(name));
                    checkUnwraps(provider, f.toSlot(name), masterKey);
                    return new KeySlotInfo(Formats.idOf(name), f.type(), f.created(), f.host(), false);
                } catch (RuntimeException e) {
                    deleteQuietly(storage, name, e);
                    throw e;
                }
            }

            @Override
            public void remove(String idOrPrefix) {
                ensureOpen();
                removeKeySlot(idOrPrefix);
            }
        };
    }

    /** Fails unless {@code provider} unwraps {@code slot} to {@code master}. */
    private static void checkUnwraps(KeyProvider provider, KeySlot slot, byte[] master) {
        Optional<byte[]> back;
        try {
            back = provider.unwrap(slot);
        } catch (KeyException e) {
            throw new KeyException("the new " + provider.describe() + " slot cannot be opened again (" + e.getMessage()
                    + "); it was not kept");
        }
        if (back.isEmpty() || !java.security.MessageDigest.isEqual(back.get(), master)) {
            throw new KeyException("the new " + provider.describe() + " slot does not give back this repository's key when opened; "
                    + "it was not kept");
        }
        Arrays.fill(back.get(), (byte) 0);
    }

    /**
     * Key slots that count as a way into this repository: readable, and not marked as written for
     * another repository id (a create that died before its config). Slots that cannot be read count
     * for nothing.
     */
    private List<String> usableSlots(String except) {
        List<String> out = new ArrayList<>();
        for (ObjectInfo o : storage.list(Formats.KEYS)) {
            if (o.name().equals(except)) {
                continue;
            }
            try {
                KeySlotFile f = KeySlotFile.decode(o.name(), storage.readAll(o.name()));
                if (f.repository() == null || f.repository().equals(config.id())) {
                    out.add(o.name());
                }
            } catch (ObjectNotFoundException | IntegrityException | ConfigurationException e) {
                // deleted meanwhile, damaged or unreadable here: it opens nothing
            }
        }
        return out;
    }

    /** Finds the one slot {@code idOrPrefix} names and removes it through {@link KeySlotRemoval} (safe against racing and killed removers). */
    private void removeKeySlot(String idOrPrefix) {
        if (idOrPrefix == null || idOrPrefix.isBlank()) {
            throw new ConfigurationException("give the id (or a unique prefix) of the key slot to remove");
        }
        List<String> matches = storage.list(Formats.KEYS).stream().map(ObjectInfo::name)
                .filter(n -> Formats.idOf(n).startsWith(idOrPrefix)).toList();
        if (matches.isEmpty()) {
            throw new ConfigurationException("no key slot " + idOrPrefix + " in " + location());
        }
        if (matches.size() > 1) {
            throw new ConfigurationException("key slot prefix " + idOrPrefix + " is ambiguous");
        }
        String target = matches.get(0);
        new KeySlotRemoval(storage, location(), this::usableSlots).remove(target);
        LOG.info("removed key slot {} from {}", Formats.idOf(target).substring(0, 8), location());
    }

    @Override
    public CheckReport check() {
        ensureOpen();
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        checkConfigAndKeySlots(errors, warnings);
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
    public Records records() {
        ensureOpen();
        return new SealedRecords(storage, sealer);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (ownsStorage) {
            storage.close();
        }
        if (masterKey != null) {
            Arrays.fill(masterKey, (byte) 0);
            Arrays.fill(idKey, (byte) 0);
        }
    }

    @Override
    public String toString() {
        return "Repository[" + location() + "]";
    }

    // ---- key slots and config ------------------------------------------------------------------

    /**
     * The config on storage is still the one this handle opened (nobody replaced it), and every key
     * slot is readable. Used by {@link #check()} and by STANDARD verification.
     */
    public void checkConfigAndKeySlots(List<String> errors, List<String> warnings) {
        ensureOpen();
        try {
            byte[] stored = storage.readAll(Formats.CONFIG);
            Optional<RepoConfig> now = RepoConfig.open(stored, sealer, masterKey != null);
            if (now.isEmpty()) {
                errors.add(Formats.CONFIG + ": config fails authentication; the object is damaged or was replaced");
            } else if (!now.get().equals(config)) {
                errors.add(Formats.CONFIG + ": config differs from the one this repository handle opened");
            }
        } catch (ObjectNotFoundException e) {
            errors.add(Formats.CONFIG + ": config is missing");
        } catch (IntegrityException | ConfigurationException e) {
            errors.add(e.getMessage());
        }
        int usable = 0;
        for (ObjectInfo o : storage.list(Formats.KEYS)) {
            try {
                KeySlotFile f = KeySlotFile.decode(o.name(), storage.readAll(o.name()));
                if (masterKey == null) {
                    errors.add(o.name() + ": key slot in an unencrypted repository");
                } else if (f.repository() != null && !f.repository().equals(config.id())) {
                    warnings.add(o.name() + ": key slot was written for repository " + f.repository()
                            + " (a create that did not finish); it opens nothing here and can be removed");
                } else {
                    usable++;
                }
            } catch (IntegrityException | ConfigurationException e) {
                errors.add(e.getMessage());
            } catch (ObjectNotFoundException gone) {
                // removed meanwhile
            }
        }
        if (masterKey != null && usable == 0) {
            errors.add(Formats.KEYS + ": no usable key slot is left; the repository cannot be opened again");
        }
    }

    static String writeKeySlot(Storage storage, KeySlot slot, String repositoryId) {
        byte[] stored = KeySlotFile.of(slot, HostName.get(), repositoryId).encode();
        String name = Formats.KEYS + Hashes.sha256Hex(stored);
        storage.putIfAbsent(name, Payload.of(stored));
        return name;
    }

    /** Best-effort clean-up after {@code cause}; a failure to clean up is attached to it, not thrown. */
    private static void deleteQuietly(Storage storage, String name, RuntimeException cause) {
        try {
            storage.delete(name);
        } catch (RuntimeException e) {
            if (cause != null) {
                cause.addSuppressed(e);
            }
            LOG.warn("could not remove {} after a failure: {}", name, e.getMessage());
        }
    }

    private static Sealer dataSealer(byte[] master) {
        return Sealer.aesGcm(Kdf.hkdf(master, KDF_SALT, "backupkit v1 data encryption", 32));
    }

    private static String shortName(String name) {
        String id = Formats.idOf(name);
        return name.substring(0, name.length() - id.length()) + (id.length() > 12 ? id.substring(0, 12) + "…" : id);
    }

    /** Builds {@link DefaultRepository} handles. */
    public static final class RepositoryBuilder implements Repository.Builder {
        private Storage storage;
        private String location;
        private KeyProvider keyProvider;
        private boolean unencrypted;
        private CompressionCodec codec;
        private int packSize = 16 * 1024 * 1024;
        private int minChunk = FastCdcChunker.DEFAULT_MIN;
        private int avgChunk = FastCdcChunker.DEFAULT_AVG;
        private int maxChunk = FastCdcChunker.DEFAULT_MAX;
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
            checkNothingToOverwrite(s);
            CompressionCodec c = codec == null ? Codecs.defaultCodec() : codec;
            RepoConfig config = new RepoConfig(Formats.CONFIG_VERSION, Hashes.hex(Aead.randomBytes(16)),
                    unencrypted ? RepoConfig.UNENCRYPTED : RepoConfig.ENCRYPTED,
                    new RepoConfig.Chunker("fastcdc", minChunk, avgChunk, maxChunk, FastCdcChunker.DEFAULT_NORMALIZATION,
                            chunkerSeed != null ? chunkerSeed : new java.security.SecureRandom().nextLong()),
                    new RepoConfig.Compression(c.name(), c.level()), packSize, Instant.now());
            if (unencrypted) {
                if (!s.putIfAbsent(Formats.CONFIG, Payload.of(config.encode(Sealer.checksumOnly())))) {
                    throw new ConfigurationException("a repository was created at " + s.location() + " at the same time");
                }
                LOG.info("created unencrypted repository {} at {}", config.id(), s.location());
                return withTiming(new DefaultRepository(s, owns, config, null, null, codec));
            }
            byte[] master = Aead.randomBytes(32);
            Sealer sealer = dataSealer(master);
            // the slot goes first: a config without a slot could never be opened, while a slot without
            // a config (the process died here) opens nothing and is skipped by open and by a new create
            String keyName = writeKeySlot(s, keyProvider.wrap(master), config.id());
            boolean written;
            try {
                written = s.putIfAbsent(Formats.CONFIG, Payload.of(config.encode(sealer)));
            } catch (RuntimeException e) {
                // the write may have landed although it reported an error: then the slot must stay
                Boolean ours = configIsOurs(s, sealer, config.id(), e);
                if (Boolean.TRUE.equals(ours)) {
                    LOG.warn("writing the config of {} reported an error ({}), but it is stored; the repository is created",
                            s.location(), e.getMessage());
                    return withTiming(new DefaultRepository(s, owns, config, master, keyName, codec));
                }
                if (ours != null) {
                    deleteQuietly(s, keyName, e);
                }
                throw e;
            }
            if (!written) {
                deleteQuietly(s, keyName, null);
                throw new ConfigurationException("a repository was created at " + s.location() + " at the same time");
            }
            LOG.info("created repository {} at {}", config.id(), s.location());
            return withTiming(new DefaultRepository(s, owns, config, master, keyName, codec));
        }

        /**
         * A location without config may still hold a repository whose config was lost: creating a new
         * one there would leave the old data unreadable. Key slots alone are what a create that died
         * before writing its config leaves: they open nothing, so an encrypted create goes ahead.
         */
        private void checkNothingToOverwrite(Storage s) {
            int snapshots = s.list(Formats.SNAPSHOTS).size();
            int indexes = s.list(Formats.INDEX).size();
            int packs = s.list(Formats.DATA).size();
            if (snapshots + indexes + packs > 0) {
                throw new ConfigurationException(s.location() + " has no config object but holds " + snapshots + " snapshot(s), "
                        + indexes + " index(es) and " + packs + " pack(s): a repository whose config is missing. Restore the config "
                        + "from a copy; a new repository created here could not read the old data");
            }
            int slots = s.list(Formats.KEYS).size();
            if (slots > 0 && unencrypted) {
                throw new ConfigurationException(s.location() + " has no config object but keys/ holds " + slots
                        + " key slot(s), left by a create of an encrypted repository that did not finish. An unencrypted "
                        + "repository has no key slots: delete the objects under keys/ first (they protect no data), "
                        + "or create an encrypted repository");
            }
            if (slots > 0) {
                LOG.warn("{} has no config but {} key slot(s), left by a create that did not finish; they open nothing",
                        s.location(), slots);
            }
        }

        /** TRUE when the stored config is the one just created, FALSE when it is absent or another, null when unknown. */
        private static Boolean configIsOurs(Storage s, Sealer sealer, String id, RuntimeException cause) {
            try {
                byte[] stored = s.readAll(Formats.CONFIG);
                return RepoConfig.open(stored, sealer, true).map(c -> c.id().equals(id)).orElse(false);
            } catch (ObjectNotFoundException e) {
                return false;
            } catch (RuntimeException e) {
                // cannot tell: keep the slot; an orphan slot is harmless, a config without its slot is not
                cause.addSuppressed(e);
                return null;
            }
        }

        @Override
        public Repository open() {
            // a password's Argon2id starts now over the slot it last opened this location with, beside the
            // storage client's construction and the first requests (KeySlotAhead)
            KeySlotAhead ahead = KeySlotAhead.start(cacheDirectory, cacheKey(), keyProvider);
            try {
                Storage s = storage();
                try {
                    return open(s, storage == null, ahead);
                } catch (RuntimeException e) {
                    closeIfOwned(s);
                    throw e;
                }
            } finally {
                if (ahead != null) {
                    // an open that failed before the slots were tried (no config, an unencrypted config, a storage
                    // that cannot be reached) or whose listing no longer holds the kept slot: the run ends here, its
                    // key wiped, so that no Argon2id (and its memory) outlives open() into the caller's next step
                    ahead.settle();
                }
            }
        }

        /**
         * What the key slot kept in the cache directory is filed under: the location of the storage {@link #storage()}
         * opens (a storage given wins over a location, as there), else the location as given.
         */
        private String cacheKey() {
            return storage != null ? storage.location() : location;
        }

        private Repository open(Storage s, boolean owns, KeySlotAhead ahead) {
            // every way through needs the key slots' listing as well as the config: both requests go out at once,
            // one round trip instead of two in series on S3
            CompletableFuture<List<ObjectInfo>> keySlots = Futures.onDaemonThread("backupkit-open", () -> s.list(Formats.KEYS));
            try {
                return open(s, owns, keySlots, ahead);
            } finally {
                // a failure before the listing was needed: it ends before the caller may close the storage
                keySlots.handle((slots, failure) -> null).join();
            }
        }

        private Repository open(Storage s, boolean owns, CompletableFuture<List<ObjectInfo>> keySlots, KeySlotAhead ahead) {
            byte[] stored;
            try {
                stored = s.readAll(Formats.CONFIG);
            } catch (ObjectNotFoundException e) {
                int slots = Futures.join(keySlots).size();
                if (slots > 0) {
                    throw new ConfigurationException("no repository at " + s.location() + ": there is no config object, but keys/ holds "
                            + slots + " key slot(s). An interrupted create leaves that: run create again. If a repository "
                            + "was here, its config was deleted: restore it from a copy");
                }
                throw new ConfigurationException("no repository at " + s.location() + " (no config object); create one first");
            }
            boolean encrypted = RepoConfig.headerSaysEncrypted(stored);
            if (!encrypted) {
                // anyone who can write the storage can write an unencrypted config (its seal is a checksum):
                // it is believed only when nothing says the repository is encrypted
                if (keyProvider != null) {
                    throw new IntegrityException(Formats.CONFIG, "the config says the repository at " + s.location()
                            + " is unencrypted, but a " + keyProvider.describe() + " was given. Refusing to open it: nothing would be "
                            + "encrypted, and an encrypted repository's config may have been replaced by someone with write access "
                            + "to the storage. If this repository really is unencrypted, open it without a password or key");
                }
                int slots = Futures.join(keySlots).size();
                if (slots > 0) {
                    throw new IntegrityException(Formats.CONFIG, "the config says the repository at " + s.location()
                            + " is unencrypted, but keys/ holds " + slots + " key slot(s), which only encrypted repositories have: "
                            + "the config may have been replaced by someone with write access to the storage. Refusing to open it; "
                            + "restore the config from a copy");
                }
                RepoConfig config = RepoConfig.decode(stored, Sealer.checksumOnly(), false);
                return withTiming(new DefaultRepository(s, owns, config, null, null, codec));
            }
            if (keyProvider == null) {
                throw new io.backupkit.KeyRequiredException(s.location());
            }
            IntegrityException damaged = null;
            RuntimeException unavailable = null;
            List<String> skipped = new ArrayList<>();
            int slots = 0;
            int notThisRepository = 0;
            List<ObjectInfo> listed = new ArrayList<>(Futures.join(keySlots));
            if (ahead != null) {
                // the slot already being opened is tried first (a repository with several passwords' slots
                // would otherwise run Argon2id for the others before reaching it); only if it is still listed
                listed.sort(Comparator.comparing((ObjectInfo o) -> !ahead.isFor(o.name())));
            }
            for (ObjectInfo o : listed) {
                // one bad slot never stops the others from being tried
                boolean early = ahead != null && ahead.isFor(o.name());
                KeySlotFile f;
                byte[] slotBytes = null;
                try {
                    if (o.size() > KeySlotFile.MAX_BYTES) {
                        throw new IntegrityException(o.name(), "key slot has " + o.size() + " bytes; slots are at most " + KeySlotFile.MAX_BYTES);
                    }
                    if (early) {
                        f = ahead.file();
                    } else {
                        slotBytes = s.readAll(o.name());
                        f = KeySlotFile.decode(o.name(), slotBytes);
                    }
                } catch (ObjectNotFoundException gone) {
                    continue;
                } catch (IntegrityException e) {
                    damaged = damaged == null ? e : damaged;
                    skipped.add(e.getMessage());
                    LOG.warn("skipping key slot: {}", e.getMessage());
                    continue;
                } catch (ConfigurationException e) {
                    skipped.add(e.getMessage());
                    LOG.warn("skipping key slot: {}", e.getMessage());
                    continue;
                }
                slots++;
                if (!f.type().equals(keyProvider.type())) {
                    continue;
                }
                Optional<byte[]> master;
                try {
                    if (ahead != null && !early) {
                        ahead.settle();
                    }
                    master = early ? ahead.take() : keyProvider.unwrap(f.toSlot(o.name()));
                } catch (ConfigurationException e) {
                    // the provider's own setup (a missing key file): the same for every slot
                    throw e;
                } catch (io.backupkit.StorageException e) {
                    // a KMS that cannot be reached is not a wrong key: report it as what it is
                    unavailable = unavailable == null ? e : unavailable;
                    skipped.add(shortName(o.name()) + ": " + e.getMessage());
                    continue;
                } catch (RuntimeException e) {
                    skipped.add(shortName(o.name()) + ": " + e.getMessage());
                    LOG.warn("skipping key slot {}: {}", shortName(o.name()), e.getMessage());
                    continue;
                }
                if (master.isEmpty()) {
                    continue;
                }
                Optional<RepoConfig> config = RepoConfig.open(stored, dataSealer(master.get()), true);
                if (config.isEmpty()) {
                    // the secret opens this slot but its key is not the config's: a slot left by a create
                    // that died, or a damaged config; the next slot decides
                    notThisRepository++;
                    LOG.warn("key slot {} opens with the given {} but its key does not authenticate the config "
                            + "(left by an interrupted create, or the config is damaged); trying the other slots",
                            shortName(o.name()), keyProvider.describe());
                    Arrays.fill(master.get(), (byte) 0);
                    continue;
                }
                if (slotBytes != null && PasswordKeyProvider.TYPE.equals(f.type())) {
                    KeySlotAhead.remember(cacheDirectory, cacheKey(), o.name(), slotBytes);
                }
                return withTiming(new DefaultRepository(s, owns, config.get(), master.get(), o.name(), codec));
            }
            if (unavailable != null) {
                throw unavailable;
            }
            if (notThisRepository > 0) {
                throw new IntegrityException(Formats.CONFIG, "config fails authentication with the key of each of the "
                        + notThisRepository + " key slot(s) the given " + keyProvider.describe() + " opens: the config is damaged, "
                        + "or those slots were left by a create that did not finish");
            }
            if (damaged != null) {
                throw new IntegrityException(damaged.objectName(), damaged.getMessage().substring(damaged.objectName().length() + 2)
                        + "; none of the other " + slots + " key slot(s) opens with the given " + keyProvider.describe(), damaged);
            }
            throw new KeyException("wrong " + keyProvider.describe() + ": none of the " + slots + " key slots of repository "
                    + s.location() + " opens with it" + (skipped.isEmpty() ? "" : "; skipped " + skipped.size()
                    + " slot(s) it could not use: " + String.join("; ", skipped)));
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
                return exists ? open(s, storage == null, null) : create(s, storage == null);
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
