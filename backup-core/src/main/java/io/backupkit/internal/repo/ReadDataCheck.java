package io.backupkit.internal.repo;

import io.backupkit.BackupException;
import io.backupkit.CheckReport;
import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Reads packs whole and checks every blob in them: the trailer authenticates and tiles the pack, every
 * blob authenticates, decompresses to its recorded length and hashes to its id, and the index agrees
 * with the trailer about each blob it places in this pack.
 */
public final class ReadDataCheck {
    private final DefaultRepository repo;
    private final double share;
    private final long seed;
    private final int parallelism;
    private final Consumer<String> progress;

    public ReadDataCheck(DefaultRepository repo, double share, long seed, int parallelism, Consumer<String> progress) {
        this.repo = repo;
        this.share = share;
        this.seed = seed;
        this.parallelism = parallelism;
        this.progress = progress;
    }

    public CheckReport run(CheckReport structure) {
        BlobIndex index = repo.locationIndex();
        Map<String, Long> indexed = index.packs();
        List<String> packs = new ArrayList<>(indexed.keySet());
        Collections.sort(packs);
        if (share < 1.0) {
            Collections.shuffle(packs, new Random(seed));
            packs = new ArrayList<>(packs.subList(0, (int) Math.min(packs.size(), Math.ceil(packs.size() * share))));
        }
        List<String> errors = Collections.synchronizedList(new ArrayList<>(structure.errors()));
        AtomicInteger done = new AtomicInteger();
        AtomicLong bytes = new AtomicLong();
        int total = packs.size();
        ExecutorService pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "backupkit-check");
            t.setDaemon(true);
            return t;
        });
        try {
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (String pack : packs) {
                all.add(CompletableFuture.runAsync(() -> {
                    String problem = checkPack(pack, index);
                    if (problem != null) {
                        errors.add(problem);
                    }
                    bytes.addAndGet(indexed.get(pack));
                    int n = done.incrementAndGet();
                    if (n % 50 == 0 || n == total) {
                        progress.accept("read " + n + " of " + total + " packs");
                    }
                }, pool));
            }
            all.forEach(CompletableFuture::join);
        } finally {
            pool.shutdownNow();
        }
        return new CheckReport(structure.snapshots(), structure.packs(), structure.blobs(), errors, structure.warnings(), total,
                bytes.get());
    }

    private String checkPack(String pack, BlobIndex index) {
        if (index.isObsolete(pack)) {
            // marked for deletion: may be gone already, and no snapshot needs it
            return null;
        }
        byte[] whole;
        try (InputStream in = repo.storage().get(pack)) {
            whole = in.readAllBytes();
        } catch (ObjectNotFoundException e) {
            return pack + ": indexed pack is missing";
        } catch (IOException | StorageException e) {
            return pack + ": cannot be read: " + e.getMessage();
        }
        try {
            int blobs = 0;
            for (PackEntry.Blob b : PackWriter.readTrailer(pack, whole, repo.sealer())) {
                BlobLocation loc = new BlobLocation(pack, b.offset(), b.length(), b.rawLength());
                BlobReader.decode(repo, b.id(), loc, whole, b.offset());
                BlobLocation indexedAt = index.get(b.id());
                if (indexedAt != null && indexedAt.pack().equals(pack) && !indexedAt.equals(loc)) {
                    return pack + ": trailer and index disagree about blob " + b.id();
                }
                blobs++;
            }
            return blobs == 0 ? pack + ": pack holds no blobs" : null;
        } catch (IntegrityException e) {
            return e.getMessage();
        } catch (BackupException e) {
            return pack + ": " + e.getMessage();
        }
    }
}
