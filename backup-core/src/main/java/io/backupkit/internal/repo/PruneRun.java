package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.PruneRefusedException;
import io.backupkit.PruneResult;
import io.backupkit.StorageException;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * One prune: deletes what no snapshot needs, safely while backups run. The design (see
 * docs/architecture.md, "Prune") in short:
 *
 * <ol>
 *   <li>Take a {@code prune} lock (only other prunes conflict). Measure this host's clock against the
 *       storage's and refuse beyond a bound; from here on every time compared is a storage time.</li>
 *   <li>List the locks of other operations <em>before</em> the snapshots: a backup that finishes
 *       between the two listings has written its manifest before it released its lock.</li>
 *   <li>Read every manifest and its blob lists: the used set. Read the index twice: pack table and
 *       list blob locations, then which pack holds each used blob (a live copy preferred).</li>
 *   <li>Packs older than every running operation and unused (or unused beyond the repack threshold,
 *       after their used blobs were copied) are <em>marked obsolete</em> in a state object. Backups
 *       that read the index after the mark no longer reuse their blobs.</li>
 *   <li>An obsolete pack is deleted (a tombstone first, then the object) once no operation that
 *       started before its mark is running; if a snapshot needs it again (a backup that started
 *       before the mark reused one of its blobs) it is <em>resurrected</em> instead.</li>
 *   <li>Small and stale index objects are merged; the state object names what it supersedes.</li>
 * </ol>
 *
 * Every step only adds objects until the final deletions, so a prune killed anywhere leaves a
 * consistent repository; two prunes at once can only delay deletions; no step needs conditional writes.
 */
public final class PruneRun {
    private static final Logger LOG = LoggerFactory.getLogger(PruneRun.class);
    /** Index objects below this stored size are merged into bigger ones. */
    static final long SMALL_INDEX = 1024 * 1024;
    /** Index objects with more dead (deleted) entries than this share are rewritten. */
    static final double DEAD_SHARE = 0.2;

    /**
     * How a prune behaves.
     *
     * @param timeMargin what two storage times must differ by to be ordered: the storage's time resolution (an object
     *                   is stamped during its write and visible after it, so a lock can be stamped a tick after a mark
     *                   that was not yet visible; the mark's own write time is added) plus the difference between the
     *                   clocks that stamp the store's objects, where there are several
     */
    public record Options(boolean dryRun, double repackThreshold, Duration uncommittedGrace, Duration maxClockSkew,
                          Duration timeMargin, Set<String> assumeForgotten) {
    }

    private final DefaultRepository repo;
    private final Storage storage;
    private final Options options;
    private final Consumer<String> progress;

    public PruneRun(DefaultRepository repo, Options options, Consumer<String> progress) {
        this.repo = repo;
        this.storage = repo.storage();
        this.options = options;
        this.progress = progress;
    }

    /** One pack as the index and the storage know it. */
    private static final class Pack {
        final int idx;
        final String name;
        long indexedSize;
        long blobBytes;
        int blobs;
        long usedBytes;
        int usedBlobs;
        boolean obsolete;
        Instant markTime;
        boolean committed;
        Instant uncommittedSince;
        final List<Integer> objects = new ArrayList<>(1);
        ObjectInfo stored;

        Pack(int idx, String name) {
            this.idx = idx;
            this.name = name;
        }
    }

    /** One live pack index object. */
    private record FullObject(String name, int kind, List<String> commits, ObjectInfo info, List<Integer> packs,
                              Set<String> deletedPacks) {
    }

    private final Map<String, Pack> packsByName = new HashMap<>();
    private final List<Pack> packs = new ArrayList<>();
    private final List<FullObject> objects = new ArrayList<>();
    private final Set<String> deleted = new HashSet<>();

    private Pack pack(String name) {
        return packsByName.computeIfAbsent(name, n -> {
            Pack p = new Pack(packs.size(), n);
            packs.add(p);
            return p;
        });
    }

    public PruneResult run() {
        long t0 = System.nanoTime();
        LockManager locks = repo.locks();
        try (LockManager.Lock lock = locks.acquire(LockManager.PRUNE, options.dryRun() ? "prune (dry run)" : "prune")) {
            return run(locks, lock, t0);
        }
    }

    private PruneResult run(LockManager locks, LockManager.Lock lock, long t0) {
        Long ownSkew = lock.info().clockSkewMillis();
        if (ownSkew == null) {
            throw new PruneRefusedException("prune needs object times from the storage to order its work, and "
                    + storage.location() + " reports none; nothing was deleted", null);
        }
        Duration skew = Duration.ofMillis(ownSkew);
        if (skew.abs().compareTo(options.maxClockSkew()) > 0) {
            throw new PruneRefusedException("this host's clock is " + describe(skew) + " the storage's (more than the "
                    + options.maxClockSkew().toSeconds() + " s prune accepts); fix the clock (NTP) and prune again; nothing was deleted",
                    lock.info().holder());
        }
        Duration margin = options.timeMargin();
        // nothing written after this moment is ever a candidate: it may belong to an operation that starts now.
        // It is the storage's own time of our lock object, not this host's clock minus the skew: the storage
        // stamps later objects with times of its resolution (S3: whole seconds), so a pack a backup writes
        // a moment after we listed the locks can carry a time up to a second before "now - skew", and with a
        // small time margin it looked old enough to delete as an orphan (its index not yet written). Our lock
        // object was written before we listed the locks, so every later object's time is at least its time.
        // (the lock records it together with clockSkewMillis, checked above)
        Instant startedStorage = lock.info().createdStorage();

        // 1. other operations, listed before the snapshots
        List<LockManager.Listed> live = liveLocks(locks, lock, skew);
        Instant oldestLive = live.stream().map(LockManager.Listed::createdStorage).min(Comparator.naturalOrder()).orElse(null);

        // 2. snapshots: list blobs to read, and blobs of version 1 manifests directly
        progress.accept("reading snapshots");
        // used blob → the pack that keeps it (34 bytes per blob)
        CompactBlobTable used = new CompactBlobTable(1);
        CompactBlobTable lists = new CompactBlobTable(4);
        Set<String> snapshotNames = new HashSet<>();
        int[] unclaimed = {-1};
        for (ObjectInfo o : storage.list(Formats.SNAPSHOTS)) {
            if (options.assumeForgotten().contains(Formats.idOf(o.name()))) {
                // a dry run of forget + prune: as if forget had removed it
                continue;
            }
            Manifest m;
            try {
                m = Manifest.decode(o.name(), repo.readObject(o.name()), repo.sealer());
            } catch (ObjectNotFoundException forgotten) {
                continue;
            }
            snapshotNames.add(o.name());
            for (Manifest.StreamEntry s : m.streams()) {
                if (s.blobs() != null) {
                    for (String hex : s.blobs()) {
                        used.append(Hashes.unhex(hex), 0, unclaimed);
                    }
                }
                for (String hex : s.lists()) {
                    byte[] id = Hashes.unhex(hex);
                    used.append(id, 0, unclaimed);
                    lists.put(id, 0, new int[] {-1, 0, 0, 0}, v -> false);
                }
            }
        }

        // 3. the index, first pass: pack table, states, list blob locations
        progress.accept("reading the index");
        List<ObjectInfo> indexListing = storage.list(Formats.INDEX);
        Map<String, ObjectInfo> indexInfo = new HashMap<>();
        indexListing.forEach(o -> indexInfo.put(o.name(), o));
        // the same reading of the prune states as every index load, with when each obsolete pack was marked
        BlobIndex.States states = BlobIndex.readStates(repo::readObject, repo.sealer(), indexListing);
        Set<String> superseded = states.superseded();
        deleted.addAll(states.deleted());
        Map<String, Instant> markTimes = states.obsolete();
        Set<String> commitsOfLive = new HashSet<>();
        for (ObjectInfo o : indexListing) {
            if (o.name().startsWith(Formats.INDEX_STATE) || superseded.contains(o.name())) {
                continue;
            }
            readFull(o, lists, markTimes);
        }
        objects.forEach(f -> commitsOfLive.addAll(f.commits()));
        for (FullObject f : objects) {
            boolean committed = f.kind() != IndexFile.CHECKPOINT || commitsOfLive.contains(f.name());
            for (int p : f.packs()) {
                Pack pk = packs.get(p);
                if (committed) {
                    pk.committed = true;
                } else if (pk.uncommittedSince == null || f.info().modified().isBefore(pk.uncommittedSince)) {
                    pk.uncommittedSince = f.info().modified();
                }
            }
        }
        for (Map.Entry<String, Instant> e : markTimes.entrySet()) {
            Pack p = packsByName.get(e.getKey());
            if (p != null) {
                p.obsolete = true;
                p.markTime = e.getValue();
            }
        }

        // 4. blob lists → used blobs
        progress.accept("reading blob lists");
        readLists(lists, used);

        // appended in bulk (sorted once, duplicates dropped): much faster than 10 million sorted inserts
        used.finishBulkLoad(x -> true);

        // 5. the index, second pass: which pack keeps each used blob, live packs first so a claim never moves
        progress.accept("matching blobs to packs");
        for (FullObject f : objects) {
            claim(f, used, false);
        }
        for (FullObject f : objects) {
            if (f.packs().stream().anyMatch(i -> packs.get(i).obsolete)) {
                claim(f, used, true);
            }
        }
        long[] missing = {0};
        String[] firstMissing = {null};
        used.forEachValues((id, v) -> {
            if (v[0] < 0) {
                missing[0]++;
                if (firstMissing[0] == null) {
                    firstMissing[0] = Hashes.hex(id).substring(0, 12);
                }
            }
        });
        if (missing[0] > 0) {
            throw new IntegrityException(Formats.INDEX, missing[0] + " blobs that snapshots reference are in no index (first: "
                    + firstMissing[0] + "); the repository is damaged: run backupkit check. Prune deleted nothing");
        }

        // 6. what the storage holds
        progress.accept("listing packs");
        Map<String, ObjectInfo> stored = new HashMap<>();
        for (ObjectInfo o : storage.list(Formats.DATA)) {
            stored.put(o.name(), o);
        }
        Instant storageNow = Instant.now().minus(skew);
        Instant lockCutoff = (oldestLive == null || oldestLive.isAfter(startedStorage) ? startedStorage : oldestLive).minus(margin);
        Instant graceCutoff = storageNow.minus(options.uncommittedGrace());

        List<Pack> toMark = new ArrayList<>();
        List<Pack> toRepack = new ArrayList<>();
        List<Pack> toSweep = new ArrayList<>();
        List<Pack> resurrect = new ArrayList<>();
        List<Pack> pending = new ArrayList<>();
        Set<String> dropFromIndex = new HashSet<>();
        List<String> orphans = new ArrayList<>();
        long bytesUnused = 0;
        for (Pack p : packs) {
            p.stored = stored.get(p.name);
            if (p.stored == null) {
                if (p.usedBlobs > 0) {
                    throw new IntegrityException(p.name, "pack is missing but holds " + p.usedBlobs
                            + " blobs that snapshots need; the repository is damaged: run backupkit check. Prune deleted nothing");
                }
                dropFromIndex.add(p.name);
                continue;
            }
            if (p.obsolete) {
                if (p.usedBlobs > 0) {
                    resurrect.add(p);
                } else if (sweepable(p.markTime, live, margin)) {
                    toSweep.add(p);
                } else {
                    pending.add(p);
                }
                continue;
            }
            boolean candidate = p.stored.modified().isBefore(lockCutoff)
                    && (p.committed || p.uncommittedSince == null || p.stored.modified().isBefore(graceCutoff));
            if (!candidate) {
                continue;
            }
            if (p.usedBlobs == 0) {
                toMark.add(p);
            } else {
                // of the blobs' bytes: a small pack's trailer is no reason to rewrite it
                double unused = 1.0 - (double) p.usedBytes / Math.max(1, p.blobBytes);
                if (unused > options.repackThreshold()) {
                    toRepack.add(p);
                } else {
                    bytesUnused += p.blobBytes - p.usedBytes;
                }
            }
        }
        for (Map.Entry<String, ObjectInfo> e : stored.entrySet()) {
            if (packsByName.containsKey(e.getKey())) {
                continue;
            }
            Instant t = e.getValue().modified();
            if (deleted.contains(e.getKey()) || (t.isBefore(lockCutoff) && t.isBefore(graceCutoff))) {
                orphans.add(e.getKey());
            }
        }
        List<String> pendingBecause = new ArrayList<>();
        if (!pending.isEmpty()) {
            Instant newestMark = pending.stream().map(p -> p.markTime).max(Comparator.naturalOrder()).orElseThrow();
            live.stream().filter(l -> !l.createdStorage().isAfter(newestMark.plus(margin)))
                    .forEach(l -> pendingBecause.add(l.info().holder() + " since " + l.createdStorage()));
        }

        if (options.dryRun()) {
            // what a run would do now: newly marked packs are deleted at once when no other operation runs
            boolean immediate = live.isEmpty();
            List<Pack> wouldDelete = new ArrayList<>(toSweep);
            List<Pack> wouldWait = new ArrayList<>(pending);
            (immediate ? wouldDelete : wouldWait).addAll(toMark);
            (immediate ? wouldDelete : wouldWait).addAll(toRepack);
            long del = bytes(wouldDelete) + orphans.stream().mapToLong(n -> stored.get(n).size()).sum();
            long written = toRepack.stream().mapToLong(p -> p.usedBytes).sum();
            return new PruneResult(true, wouldDelete.size() + orphans.size(), del, toRepack.size(),
                    toRepack.isEmpty() ? 0 : (int) Math.max(1, written / Math.max(1, repo.config().packSize())), written,
                    toMark.size() + toRepack.size(), resurrect.size(), wouldWait.size(), bytes(wouldWait), pendingBecause,
                    bytesUnused, 0, 0, snapshotNames.size(), Duration.ofNanos(System.nanoTime() - t0));
        }

        // 7. repack: copy used blobs of mostly unused packs into new packs, indexed before anything else changes
        lock.checkHeld("repacking");
        Repacked repacked = repack(toRepack, used, lock);
        toMark.addAll(toRepack);

        // 8. marks: one state object with every mark (old ones kept, resurrected ones dropped, new ones added)
        int indexWritten = repacked.indexObjects;
        Set<String> previousStates = new LinkedHashSet<>(states.names());
        Set<String> obsoleteNow = new TreeSet<>();
        // marks that stay: not resurrected (still unused), still stored
        packs.stream().filter(p -> p.obsolete && p.usedBlobs == 0 && p.stored != null).forEach(p -> obsoleteNow.add(p.name));
        toMark.forEach(p -> obsoleteNow.add(p.name));
        String markState = null;
        List<Pack> sweepNow = new ArrayList<>(toSweep);
        if (!toMark.isEmpty() || !resurrect.isEmpty()) {
            lock.checkHeld("marking packs obsolete");
            Set<String> sup = new LinkedHashSet<>(previousStates);
            sup.addAll(supersededStillPresent(superseded, indexInfo));
            long writing = System.nanoTime();
            markState = writeState(sup, obsoleteNow, tombstonesStillNeeded(Set.of()));
            Duration markWrite = Duration.ofNanos(System.nanoTime() - writing);
            indexWritten++;
            // the storage's time of the mark, listed like the locks' it is compared with; when the listing does not
            // say, the mark counts as not yet ordered against anything (a time taken before the write, like
            // storageNow, would make it look earlier than it was). A store stamps an object at some moment of its
            // write and shows it only once the write is done (a local disk stamps the file's last write, then
            // fsyncs and links it): a lock stamped after the mark may have been written, and the index read, before
            // the mark was visible. The mark was visible at the latest when its write returned, so it counts as
            // made that much later than its stamp (the later prunes read the final state's time instead, written
            // after the mark was visible)
            Instant listedMark = listedTime(markState);
            Instant markTime = listedMark == null ? null : listedMark.plus(markWrite);
            // a second look: sweep what was just marked only if nobody could have read the index before the mark
            List<LockManager.Listed> liveNow = liveLocks(locks, lock, skew);
            Set<String> snapshotsNow = new HashSet<>();
            storage.list(Formats.SNAPSHOTS).forEach(o -> snapshotsNow.add(o.name()));
            if (markTime != null && snapshotNames.containsAll(snapshotsNow) && sweepable(markTime, liveNow, margin)) {
                sweepNow.addAll(toMark);
            } else {
                pending.addAll(toMark);
                liveNow.stream().filter(l -> markTime == null || !l.createdStorage().isAfter(markTime.plus(margin)))
                        .forEach(l -> pendingBecause.add(l.info().holder() + " since " + l.createdStorage()));
                if (!snapshotNames.containsAll(snapshotsNow)) {
                    pendingBecause.add("a snapshot was written while this prune ran");
                }
            }
        }

        // 9. merge small and stale index objects, leaving out deleted packs
        Set<String> gone = new HashSet<>(dropFromIndex);
        sweepNow.forEach(p -> gone.add(p.name));
        gone.addAll(deleted);
        lock.checkHeld("merging index objects");
        Merged merged = merge(gone, commitsOfLive);
        indexWritten += merged.written;

        // 10. the final state: tombstones for what goes now, marks for what waits
        Set<String> finalObsolete = new TreeSet<>(obsoleteNow);
        finalObsolete.removeAll(gone);
        Set<String> sup = new LinkedHashSet<>(previousStates);
        sup.addAll(supersededStillPresent(superseded, indexInfo));
        if (markState != null) {
            sup.add(markState);
        }
        sup.addAll(merged.superseded);
        Set<String> tombs = new TreeSet<>(tombstonesStillNeeded(merged.superseded));
        sweepNow.forEach(p -> tombs.add(p.name));
        for (String d : dropFromIndex) {
            // an unmerged object still lists it (each pack knows the objects that list it)
            if (packsByName.get(d).objects.stream().anyMatch(i -> !merged.superseded.contains(objects.get(i).name()))) {
                tombs.add(d);
            }
        }
        boolean changed = markState != null || !sweepNow.isEmpty() || !merged.superseded.isEmpty() || !dropFromIndex.isEmpty()
                || !orphans.isEmpty();
        if (changed) {
            lock.checkHeld("writing the prune state");
            writeState(sup, finalObsolete, tombs);
            indexWritten++;
        }

        // 11. delete: swept packs, orphans and leftovers, then the superseded index objects
        lock.checkHeld("deleting packs");
        List<String> deleteNames = new ArrayList<>();
        sweepNow.forEach(p -> deleteNames.add(p.name));
        deleteNames.addAll(orphans);
        long deletedBytes = bytes(sweepNow) + orphans.stream().mapToLong(n -> stored.get(n).size()).sum();
        progress.accept("deleting " + deleteNames.size() + " packs");
        storage.delete(deleteNames);
        int indexDeleted = 0;
        List<String> indexToDelete = new ArrayList<>();
        // only what the state just written supersedes: without it the old states would be the truth
        for (String s : changed ? sup : Set.<String>of()) {
            if (indexInfo.containsKey(s) || s.equals(markState) || merged.superseded.contains(s)) {
                indexToDelete.add(s);
            }
        }
        if (!indexToDelete.isEmpty()) {
            lock.checkHeld("deleting merged index objects");
            storage.delete(indexToDelete);
            indexDeleted = indexToDelete.size();
        }
        if (repo.cache().enabled()) {
            for (String prefix : List.of(Formats.INDEX, Formats.SNAPSHOTS)) {
                Set<String> present = new HashSet<>();
                storage.list(prefix).forEach(o -> present.add(o.name()));
                repo.cache().retain(prefix, present);
            }
            // the lists of the snapshots read (one of a snapshot written meanwhile is only fetched again)
            Set<String> liveLists = new HashSet<>();
            lists.forEach((id, pack) -> liveLists.add(Hashes.hex(id)));
            repo.cache().retainBlobs(liveLists);
        }
        LOG.info("prune of {}: {} packs deleted ({} bytes), {} repacked into {}, {} pending, {} resurrected", storage.location(),
                deleteNames.size(), deletedBytes, toRepack.size(), repacked.packs, pending.size(), resurrect.size());
        return new PruneResult(false, deleteNames.size(), deletedBytes, toRepack.size(), repacked.packs, repacked.bytes,
                toMark.size(), resurrect.size(), pending.size(), bytes(pending), pendingBecause.stream().distinct().toList(),
                bytesUnused, indexWritten, indexDeleted, snapshotNames.size(), Duration.ofNanos(System.nanoTime() - t0));
    }

    private static long bytes(List<Pack> list) {
        return list.stream().mapToLong(p -> p.stored == null ? 0 : p.stored.size()).sum();
    }

    private static String describe(Duration skew) {
        Duration a = skew.abs();
        String amount = a.toSeconds() >= 120 ? Math.round(a.toSeconds() / 60.0) + " min" : a.toSeconds() + " s";
        return amount + (skew.isNegative() ? " behind" : " ahead of");
    }

    /** Locks of other operations that are not stale, by storage time; refuses when one reports a clock beyond the bound. */
    private List<LockManager.Listed> liveLocks(LockManager locks, LockManager.Lock own, Duration ownSkew) {
        Instant storageNow = Instant.now().minus(ownSkew);
        List<LockManager.Listed> out = new ArrayList<>();
        for (LockManager.Listed l : locks.list()) {
            if (l.name().equals(own.name()) || (l.info().pid() == own.info().pid() && l.info().host().equals(own.info().host())
                    && l.info().created().equals(own.info().created()))) {
                continue;
            }
            boolean stale = Instant.EPOCH.equals(l.objectTime()) ? locks.isStale(l)
                    : Duration.between(l.objectTime(), storageNow).compareTo(locks.timing().staleAfter()) > 0;
            if (stale) {
                continue;
            }
            Duration s = l.clockSkew();
            if (s != null && s.abs().compareTo(options.maxClockSkew()) > 0) {
                throw new PruneRefusedException("the clock of " + l.info().holder() + " is " + describe(s)
                        + " the storage's (more than the " + options.maxClockSkew().toSeconds() + " s prune accepts), so prune cannot "
                        + "order its work against it; fix that host's clock; nothing was deleted", l.info().holder());
            }
            out.add(l);
        }
        return out;
    }

    /**
     * The storage's time of an object as a listing shows it; null when the listing does not show it (yet) or the storage
     * keeps no times. Not a stat's: every time it is compared with (locks' {@code createdStorage}, packs, the marks later
     * prunes read) is a listing's, and a stat's may be of another kind. S3-compatible stores (MinIO, Ceph, GCS) list
     * milliseconds but answer a HEAD with an HTTP date, cut to the whole second: the mark's time would lie up to a second
     * early, and a lock written before the mark in the same second would look newer than it under a margin below a second
     * (its packs swept while that operation may still reuse them). From one kind of source a time is cut the same way for
     * both objects (local disks and the in-memory storages give stat and listing one time, AWS lists whole seconds), so an
     * object written earlier never looks later, and equal times count as not ordered.
     */
    private Instant listedTime(String name) {
        // the name as prefix lists that object on every storage (and nothing else here: state names are hashes)
        return storage.list(name).stream().filter(o -> o.name().equals(name)).findFirst()
                .flatMap(ObjectInfo::storageTime).orElse(null);
    }

    /** No running operation started before the mark (plus the skew margin): nobody can reuse what it marked. */
    private static boolean sweepable(Instant markTime, List<LockManager.Listed> live, Duration margin) {
        for (LockManager.Listed l : live) {
            if (!l.createdStorage().isAfter(markTime.plus(margin))) {
                return false;
            }
        }
        return true;
    }

    /** An index object prune listed; one that vanished since was deleted by another prune. */
    private byte[] readIndexObject(String name) {
        try {
            return repo.readObject(name);
        } catch (ObjectNotFoundException e) {
            throw new StorageException("index object " + name + " vanished while prune read it (another prune?); prune again",
                    true, e);
        }
    }

    private void readFull(ObjectInfo o, CompactBlobTable lists, Map<String, Instant> markTimes) {
        byte[] stored = readIndexObject(o.name());
        List<Integer> packList = new ArrayList<>();
        Set<String> deadPacks = new HashSet<>();
        int[] kind = {IndexFile.BACKUP};
        List<List<String>> commits = new ArrayList<>();
        int objectIdx = objects.size();
        IndexFile.read(o.name(), stored, repo.sealer(), new IndexFile.Visitor() {
            Pack current;

            @Override
            public void header(int k, List<String> c) {
                kind[0] = k;
                commits.add(c);
            }

            @Override
            public void pack(String name, long size, int blobCount) {
                PackTable.digestOf(o.name(), name);
                if (deleted.contains(name)) {
                    deadPacks.add(name);
                    current = null;
                    return;
                }
                current = PruneRun.this.pack(name);
                current.indexedSize = size;
                if (!current.objects.contains(objectIdx)) {
                    current.objects.add(objectIdx);
                    packList.add(current.idx);
                }
            }

            @Override
            public void blob(byte[] buf, int off) {
                if (current == null) {
                    return;
                }
                int len = Formats.getInt(buf, off + 36);
                current.blobBytes += len;
                current.blobs++;
                int pk = current.idx;
                boolean obsolete = markTimes.containsKey(current.name);
                lists.update(buf, off, v -> {
                    if (v[0] < 0 || (markTimes.containsKey(packs.get(v[0]).name) && !obsolete)) {
                        v[0] = pk;
                        v[1] = Formats.getInt(buf, off + 32);
                        v[2] = len;
                        v[3] = Formats.getInt(buf, off + 40);
                        return true;
                    }
                    return false;
                });
            }
        });
        objects.add(new FullObject(o.name(), kind[0], commits.isEmpty() ? List.of() : commits.get(0), o, packList, deadPacks));
    }

    /** Reads every list blob (grouped per pack, in offset order) and adds the ids it holds to the used set. */
    private void readLists(CompactBlobTable lists, CompactBlobTable used) {
        Map<Integer, List<Object[]>> byPack = new HashMap<>();
        long[] missing = {0};
        lists.forEachValues((id, v) -> {
            if (v[0] < 0) {
                missing[0]++;
                return;
            }
            byPack.computeIfAbsent(v[0], k -> new ArrayList<>()).add(new Object[] {BlobId.of(id),
                    new BlobLocation(packs.get(v[0]).name, v[1], v[2], v[3])});
        });
        if (missing[0] > 0) {
            throw new IntegrityException(Formats.INDEX, missing[0] + " blob lists that snapshots reference are in no index; the "
                    + "repository is damaged: run backupkit check. Prune deleted nothing");
        }
        int[] unclaimed = {-1};
        BlobReader reader = new BlobReader(repo, null);
        for (List<Object[]> group : byPack.values()) {
            group.sort(Comparator.comparingInt(a -> ((BlobLocation) a[1]).offset()));
            for (Object[] entry : group) {
                BlobId id = (BlobId) entry[0];
                BlobLocation loc = (BlobLocation) entry[1];
                byte[] plain;
                try {
                    plain = repo.cache().blob(id, () -> reader.readRange(loc), sealed -> BlobReader.decode(repo, id, loc, sealed, 0));
                } catch (IntegrityException e) {
                    // like a missing pack that holds used blobs: say that nothing changed and what to do
                    throw new IntegrityException(loc.pack(), "cannot read blob list " + id + " that snapshots need (" + e.getMessage()
                            + "); the repository is damaged: run backupkit check. Prune deleted nothing", e);
                }
                int n = BlobLists.count(plain, loc.pack());
                for (int i = 0; i < n; i++) {
                    // straight from the list's bytes: ten million ids make no garbage
                    used.append(plain, 8 + i * BlobId.BYTES, unclaimed);
                }
                // lists overlap (a changed list and its predecessor share most ids): drop duplicates as they come
                used.compactIfGrown(0.15, x -> true);
            }
        }
    }

    /**
     * Second pass: every used blob is claimed by the first pack seen to hold it, among live packs (or, with
     * {@code obsoletePacks}, among obsolete ones for blobs no live pack holds); the claiming pack counts it as used.
     */
    private void claim(FullObject f, CompactBlobTable used, boolean obsoletePacks) {
        IndexFile.read(f.name(), readIndexObject(f.name()), repo.sealer(), new IndexFile.Visitor() {
            Pack current;

            @Override
            public void pack(String name, long size, int blobCount) {
                Pack p = deleted.contains(name) ? null : packsByName.get(name);
                current = p != null && p.obsolete == obsoletePacks ? p : null;
            }

            @Override
            public void blob(byte[] buf, int off) {
                if (current == null) {
                    return;
                }
                Pack p = current;
                used.update(buf, off, v -> {
                    if (v[0] < 0) {
                        v[0] = p.idx;
                        p.usedBytes += Formats.getInt(buf, off + 36);
                        p.usedBlobs++;
                        return true;
                    }
                    return false;
                });
            }
        });
    }

    private record Repacked(int packs, long bytes, int indexObjects) {
    }

    /** Copies the used blobs (sealed bytes as they are, authenticated first) of {@code sources} into new packs. */
    private Repacked repack(List<Pack> sources, CompactBlobTable used, LockManager.Lock lock) {
        if (sources.isEmpty()) {
            return new Repacked(0, 0, 0);
        }
        progress.accept("repacking " + sources.size() + " packs");
        int packSize = repo.config().packSize();
        List<PackEntry> written = new ArrayList<>();
        long bytes = 0;
        PackWriter out = new PackWriter(packSize + 1024 * 1024);
        int[] v = new int[1];
        for (Pack p : sources) {
            byte[] whole;
            try (InputStream in = storage.get(p.name)) {
                whole = in.readAllBytes();
            } catch (IOException e) {
                throw new StorageException("reading " + p.name + " failed: " + e.getMessage(), true, e);
            }
            for (PackEntry.Blob b : PackWriter.readTrailer(p.name, whole, repo.sealer())) {
                if (!used.get(b.id().raw(), 0, v) || v[0] != p.idx) {
                    continue;
                }
                if (b.offset() < 0 || (long) b.offset() + b.length() > whole.length) {
                    throw new IntegrityException(p.name, "pack trailer lists blob " + b.id() + " outside the pack");
                }
                byte[] sealed = java.util.Arrays.copyOfRange(whole, b.offset(), b.offset() + b.length());
                if (repo.sealer().open(sealed, b.id().bytes()).isEmpty()) {
                    throw new IntegrityException(p.name, "blob " + b.id() + " fails authentication; the pack is damaged. Prune deleted "
                            + "nothing: run backupkit check");
                }
                out.add(b.id(), sealed, b.rawLength());
                if (out.size() >= packSize) {
                    bytes += store(out, written, lock);
                    out = new PackWriter(packSize + 1024 * 1024);
                }
            }
        }
        if (out.blobCount() > 0) {
            bytes += store(out, written, lock);
        }
        int indexObjects = 0;
        for (List<PackEntry> part : split(written)) {
            lock.checkHeld("indexing repacked packs");
            repo.writeIndex(IndexFile.COMPACTED, List.of(), part);
            indexObjects++;
        }
        return new Repacked(written.size(), bytes, indexObjects);
    }

    private long store(PackWriter w, List<PackEntry> written, LockManager.Lock lock) {
        PackWriter.Finished f = w.finish(repo.sealer());
        lock.checkHeld("storing a repacked pack");
        storage.putIfAbsent(f.entry().pack(), Payload.of(f.bytes(), 0, f.length()));
        written.add(f.entry());
        return f.length();
    }

    private static List<List<PackEntry>> split(List<PackEntry> entries) {
        List<List<PackEntry>> out = new ArrayList<>();
        List<PackEntry> cur = new ArrayList<>();
        long blobs = 0;
        for (PackEntry p : entries) {
            if (!cur.isEmpty() && IndexFile.plainSize(cur.size() + 1, blobs + p.blobs().size()) > IndexFile.MAX_PLAIN_BYTES) {
                out.add(cur);
                cur = new ArrayList<>();
                blobs = 0;
            }
            cur.add(p);
            blobs += p.blobs().size();
        }
        if (!cur.isEmpty()) {
            out.add(cur);
        }
        return out;
    }

    private record Merged(Set<String> superseded, int written) {
    }

    /**
     * Merges small pack indexes, and rewrites those with many dead entries, into new ones without the packs
     * in {@code gone}. Uncommitted checkpoints are left alone: their packs keep their grace period.
     */
    private Merged merge(Set<String> gone, Set<String> commitsOfLive) {
        List<FullObject> pick = new ArrayList<>();
        for (FullObject f : objects) {
            if (f.kind() == IndexFile.CHECKPOINT && !commitsOfLive.contains(f.name())) {
                boolean allGone = f.packs().stream().allMatch(i -> gone.contains(packs.get(i).name));
                if (!allGone) {
                    continue;
                }
            }
            long dead = f.packs().stream().filter(i -> gone.contains(packs.get(i).name)).count() + f.deletedPacks().size();
            long all = f.packs().size() + f.deletedPacks().size();
            boolean small = f.info().size() < SMALL_INDEX;
            if (small || (all > 0 && (double) dead / all > DEAD_SHARE)) {
                pick.add(f);
            }
        }
        // one small object alone gains nothing, unless it holds dead entries
        if (pick.size() == 1 && pick.get(0).deletedPacks().isEmpty()
                && pick.get(0).packs().stream().noneMatch(i -> gone.contains(packs.get(i).name))) {
            return new Merged(Set.of(), 0);
        }
        if (pick.isEmpty()) {
            return new Merged(Set.of(), 0);
        }
        progress.accept("merging " + pick.size() + " index objects");
        Map<String, PackEntry> keep = new LinkedHashMap<>();
        for (FullObject f : pick) {
            for (PackEntry p : IndexFile.decode(f.name(), readIndexObject(f.name()), repo.sealer())) {
                if (!gone.contains(p.pack()) && !deleted.contains(p.pack())) {
                    keep.putIfAbsent(p.pack(), p);
                }
            }
        }
        int written = 0;
        for (List<PackEntry> part : split(new ArrayList<>(keep.values()))) {
            repo.writeIndex(IndexFile.COMPACTED, List.of(), part);
            written++;
        }
        Set<String> sup = new LinkedHashSet<>();
        pick.forEach(f -> sup.add(f.name()));
        return new Merged(sup, written);
    }

    /** Index objects already superseded that are still in the listing (a killed prune did not delete them). */
    private static Set<String> supersededStillPresent(Set<String> superseded, Map<String, ObjectInfo> listing) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : superseded) {
            if (listing.containsKey(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** Tombstones to carry: packs already deleted that a live pack index not being merged still lists. */
    private Set<String> tombstonesStillNeeded(Set<String> mergedAway) {
        Set<String> out = new TreeSet<>();
        for (FullObject f : objects) {
            if (!mergedAway.contains(f.name())) {
                out.addAll(f.deletedPacks());
            }
        }
        return out;
    }

    private String writeState(Set<String> superseded, Set<String> obsolete, Set<String> tombs) {
        List<IndexFile.Annotation> annotations = new ArrayList<>();
        obsolete.forEach(p -> annotations.add(new IndexFile.Annotation(IndexFile.OBSOLETE, p)));
        tombs.forEach(p -> annotations.add(new IndexFile.Annotation(IndexFile.DELETED, p)));
        byte[] stored = IndexFile.encodeState(new IndexFile.State(List.copyOf(superseded), annotations), repo.sealer());
        String name = Formats.INDEX_STATE + Hashes.sha256Hex(stored);
        storage.putIfAbsent(name, Payload.of(stored));
        repo.cache().put(name, stored);
        return name;
    }
}
