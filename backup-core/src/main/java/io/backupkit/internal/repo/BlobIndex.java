package io.backupkit.internal.repo;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** In-memory union of all index objects read so far: blob id → location. Thread-safe. */
public final class BlobIndex {
    private final Map<BlobId, BlobLocation> blobs = new ConcurrentHashMap<>();
    private final Map<String, Long> packs = new ConcurrentHashMap<>();
    private final Set<String> loadedIndexes = ConcurrentHashMap.newKeySet();

    public boolean isLoaded(String indexName) {
        return loadedIndexes.contains(indexName);
    }

    public void add(String indexName, Collection<PackEntry> entries) {
        for (PackEntry p : entries) {
            addPack(p);
        }
        loadedIndexes.add(indexName);
    }

    public void addPack(PackEntry p) {
        packs.put(p.pack(), p.size());
        for (PackEntry.Blob b : p.blobs()) {
            blobs.putIfAbsent(b.id(), new BlobLocation(p.pack(), b.offset(), b.length(), b.rawLength()));
        }
    }

    public BlobLocation get(BlobId id) {
        return blobs.get(id);
    }

    public boolean contains(BlobId id) {
        return blobs.containsKey(id);
    }

    /** Indexed packs and the sizes their indexes record. */
    public Map<String, Long> packs() {
        return Map.copyOf(packs);
    }

    public int blobCount() {
        return blobs.size();
    }

    public Set<String> indexNames() {
        return Set.copyOf(loadedIndexes);
    }
}
