package io.backupkit.internal.repo;

import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * What the repository's index objects say, in memory: blob id → pack (and place in it). Two forms:
 * a <em>dedup set</em> (which blobs a backup may reuse: 30 bytes per blob) and a <em>location
 * table</em> (where each blob lies, for restores and checks: 46 bytes per blob). Blobs whose pack
 * prune marked obsolete are not in the dedup set, so no new snapshot starts to depend on a pack about
 * to be deleted; the location table keeps them, preferring a copy in a live pack.
 *
 * <p>Loading reads the prune state objects first ({@code index/state/}: superseded index objects,
 * obsolete and deleted packs), then every pack index that is not superseded. A refresh reads only
 * pack indexes written since; a new state object means a prune ran, and the index is loaded afresh
 * ({@link #refresh} returns false). Thread-safe.
 */
public final class BlobIndex {
    private static final Logger LOG = LoggerFactory.getLogger(BlobIndex.class);
    private static final int ATTEMPTS = 5;

    private final boolean locations;
    private final PackTable packs = new PackTable();
    private final CompactBlobTable table;
    private final Set<String> loaded = ConcurrentHashMap.newKeySet();
    private final Set<String> deletedPacks = ConcurrentHashMap.newKeySet();

    private BlobIndex(boolean locations) {
        this.locations = locations;
        this.table = new CompactBlobTable(locations ? 4 : 0);
    }

    /** An empty index (a new repository, or tests). */
    public static BlobIndex empty(boolean locations) {
        return new BlobIndex(locations);
    }

    /** Reads every live index object of the repository. */
    public static BlobIndex load(Storage storage, Sealer sealer, boolean locations) {
        return load(storage, storage::readAll, sealer, locations);
    }

    /** Reads every live index object, whole objects through {@code reader} (a cache). */
    public static BlobIndex load(Storage storage, Function<String, byte[]> reader, Sealer sealer, boolean locations) {
        for (int attempt = 1; ; attempt++) {
            try {
                BlobIndex index = new BlobIndex(locations);
                index.loadAll(storage, reader, sealer);
                return index;
            } catch (ObjectNotFoundException e) {
                // a prune deleted an index object between our listing and our read: list again
                if (attempt >= ATTEMPTS) {
                    throw new StorageException("the index of " + storage.location() + " kept changing while it was read ("
                            + e.getMessage() + "); try again", true, e);
                }
                LOG.info("index object vanished while loading ({}); reading the index again", e.objectName());
            }
        }
    }

    /**
     * Reads every live index object it can: a damaged object becomes a line in {@code problems} instead of
     * an exception, so a check reports all damage at once.
     */
    public static BlobIndex loadTolerant(Storage storage, Function<String, byte[]> reader, Sealer sealer, List<String> problems) {
        BlobIndex index = new BlobIndex(true);
        List<ObjectInfo> listing = storage.list(Formats.INDEX);
        States states;
        try {
            states = readStates(reader, sealer, listing);
        } catch (io.backupkit.IntegrityException e) {
            problems.add(e.getMessage());
            states = new States(Set.of(), Set.of(), Map.of(), Set.of());
        }
        index.applyStates(states);
        for (ObjectInfo o : listing) {
            if (o.name().startsWith(Formats.INDEX_STATE) || states.superseded().contains(o.name())) {
                continue;
            }
            try {
                index.read(o.name(), reader.apply(o.name()), sealer, true);
                index.loaded.add(o.name());
            } catch (io.backupkit.IntegrityException e) {
                problems.add(e.getMessage());
            } catch (ObjectNotFoundException e) {
                // superseded and deleted by a prune meanwhile
            }
        }
        index.table.finishBulkLoad(idx -> !index.packs.obsolete(idx));
        return index;
    }

    private void applyStates(States states) {
        loaded.addAll(states.names());
        deletedPacks.addAll(states.deleted());
        for (String p : states.obsolete().keySet()) {
            packs.markObsolete(packs.add(Formats.INDEX_STATE, p, 0));
        }
    }

    /**
     * The prune state objects of a listing (in listing order), and what the live ones say: each obsolete
     * pack with the storage time of the earliest live state that marks it (when prune marked it).
     */
    record States(Set<String> names, Set<String> superseded, Map<String, Instant> obsolete, Set<String> deleted) {
    }

    static States readStates(Function<String, byte[]> reader, Sealer sealer, List<ObjectInfo> listing) {
        Map<String, IndexFile.State> states = new LinkedHashMap<>();
        Map<String, Instant> times = new HashMap<>();
        for (ObjectInfo o : listing) {
            if (o.name().startsWith(Formats.INDEX_STATE)) {
                states.put(o.name(), IndexFile.readState(o.name(), reader.apply(o.name()), sealer));
                times.put(o.name(), o.modified());
            }
        }
        Set<String> superseded = new HashSet<>();
        states.values().forEach(s -> superseded.addAll(s.superseded()));
        Map<String, Instant> obsolete = new HashMap<>();
        Set<String> deleted = new HashSet<>();
        states.forEach((name, s) -> {
            if (superseded.contains(name)) {
                return;
            }
            Instant t = times.get(name);
            for (IndexFile.Annotation a : s.annotations()) {
                if (a.type() == IndexFile.DELETED) {
                    deleted.add(a.pack());
                } else {
                    obsolete.merge(a.pack(), t, (x, y) -> x.isBefore(y) ? x : y);
                }
            }
        });
        obsolete.keySet().removeAll(deleted);
        return new States(states.keySet(), superseded, obsolete, deleted);
    }

    private void loadAll(Storage storage, Function<String, byte[]> reader, Sealer sealer) {
        List<ObjectInfo> listing = storage.list(Formats.INDEX);
        States states = readStates(reader, sealer, listing);
        applyStates(states);
        for (ObjectInfo o : listing) {
            if (o.name().startsWith(Formats.INDEX_STATE) || states.superseded().contains(o.name())) {
                continue;
            }
            read(o.name(), reader.apply(o.name()), sealer, true);
            loaded.add(o.name());
        }
        table.finishBulkLoad(idx -> !packs.obsolete(idx));
    }

    private void read(String name, byte[] stored, Sealer sealer, boolean bulk) {
        int[] vals = new int[4];
        IndexFile.read(name, stored, sealer, new IndexFile.Visitor() {
            int pack = -1;
            boolean skip;

            @Override
            public void pack(String pack, long size, int blobCount) {
                skip = deletedPacks.contains(pack);
                if (!skip) {
                    this.pack = packs.add(name, pack, size);
                    skip = !locations && packs.obsolete(this.pack);
                }
            }

            @Override
            public void blob(byte[] buf, int off) {
                if (skip) {
                    return;
                }
                vals[0] = pack;
                vals[1] = Formats.getInt(buf, off + 32);
                vals[2] = Formats.getInt(buf, off + 36);
                vals[3] = Formats.getInt(buf, off + 40);
                if (bulk) {
                    table.append(buf, off, vals);
                } else {
                    table.put(buf, off, vals, old -> packs.obsolete(old) && !packs.obsolete(vals[0]));
                }
            }
        });
    }

    /**
     * Reads the pack indexes written since this index was loaded.
     *
     * @return false when a prune changed the index meanwhile (the caller then loads a fresh one)
     */
    public boolean refresh(Storage storage, Sealer sealer) {
        return refresh(storage, storage::readAll, sealer);
    }

    /** As {@link #refresh(Storage, Sealer)}, whole objects read through {@code reader}. */
    public boolean refresh(Storage storage, Function<String, byte[]> reader, Sealer sealer) {
        List<ObjectInfo> listing = storage.list(Formats.INDEX);
        Set<String> listed = new HashSet<>();
        List<String> fresh = new ArrayList<>();
        for (ObjectInfo o : listing) {
            listed.add(o.name());
            if (!loaded.contains(o.name())) {
                if (o.name().startsWith(Formats.INDEX_STATE)) {
                    return false;
                }
                fresh.add(o.name());
            }
        }
        for (String name : loaded) {
            if (!listed.contains(name)) {
                return false;
            }
        }
        for (String name : fresh) {
            byte[] stored;
            try {
                stored = reader.apply(name);
            } catch (ObjectNotFoundException e) {
                return false;
            }
            read(name, stored, sealer, false);
            loaded.add(name);
        }
        return true;
    }

    /** Adds the packs of an index object this process just wrote. */
    public void add(String indexName, Collection<PackEntry> entries) {
        int[] vals = new int[4];
        byte[] id = new byte[BlobId.BYTES];
        for (PackEntry p : entries) {
            int idx = packs.add(indexName, p.pack(), p.size());
            for (PackEntry.Blob b : p.blobs()) {
                b.id().writeTo(id, 0);
                vals[0] = idx;
                vals[1] = b.offset();
                vals[2] = b.length();
                vals[3] = b.rawLength();
                table.put(id, 0, vals, old -> packs.obsolete(old));
            }
        }
        loaded.add(indexName);
    }

    public boolean isLoaded(String indexName) {
        return loaded.contains(indexName);
    }

    /** Whether a backup may reuse the blob: indexed in a pack that is not obsolete. */
    public boolean containsForDedup(BlobId id) {
        if (locations) {
            int[] v = new int[4];
            return table.get(id.raw(), 0, v) && !packs.obsolete(v[0]);
        }
        return table.contains(id.raw(), 0);
    }

    /** Whether the blob is indexed at all (also in an obsolete pack). */
    public boolean contains(BlobId id) {
        return table.contains(id.raw(), 0);
    }

    /** Where the blob lies (a live pack preferred), or null. Only for an index loaded with locations. */
    public BlobLocation get(BlobId id) {
        if (!locations) {
            throw new IllegalStateException("this index holds no locations");
        }
        int[] v = new int[4];
        if (!table.get(id.raw(), 0, v)) {
            return null;
        }
        return new BlobLocation(packs.name(v[0]), v[1], v[2], v[3]);
    }

    /** Indexed packs (not deleted) and the sizes their indexes record. */
    public Map<String, Long> packs() {
        Map<String, Long> out = new HashMap<>();
        int n = packs.count();
        for (int i = 0; i < n; i++) {
            String name = packs.name(i);
            if (!deletedPacks.contains(name) && packs.size(i) > 0) {
                out.put(name, packs.size(i));
            }
        }
        return out;
    }

    /** Whether prune marked the pack obsolete. */
    public boolean isObsolete(String pack) {
        int idx = packs.indexOf(pack);
        return idx >= 0 && packs.obsolete(idx);
    }

    public long blobCount() {
        return table.size();
    }

    /** Heap bytes per indexed blob of the in-memory form (records and bucket overhead, not the pack table). */
    public double bytesPerBlob() {
        long n = table.size();
        return n == 0 ? 0 : (double) table.recordBytes() / n;
    }

    public Set<String> indexNames() {
        return Set.copyOf(loaded);
    }

    /** A set of blob ids in the same compact form (30 bytes per id), e.g. for the blobs a backup has in flight. */
    public static final class IdSet {
        private final CompactBlobTable set = new CompactBlobTable(0);

        /** True when the id was not in the set. */
        public boolean add(BlobId id) {
            return set.addIfAbsent(id.raw(), 0);
        }

        public boolean contains(BlobId id) {
            return set.contains(id.raw(), 0);
        }

        public long size() {
            return set.size();
        }
    }
}
