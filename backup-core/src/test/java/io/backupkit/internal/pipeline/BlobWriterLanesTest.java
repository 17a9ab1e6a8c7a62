package io.backupkit.internal.pipeline;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streams written at the same time fill packs of their own lane, so a restore reads a stream's blobs
 * without the other streams' in between; what the lanes hold at the end goes into as few packs as fit.
 */
class BlobWriterLanesTest {
    private static final int CHUNK = 64 * 1024;
    private static final int PACK = 1024 * 1024;

    @TempDir
    Path dir;

    /**
     * {@code streams} threads submit incompressible chunks at once, each its own stream, {@code chunks}
     * each (64 KiB: 16 to a 1 MiB pack). With as many lanes as streams, every pack but the one the lanes'
     * leftovers were merged into holds one stream's blobs; with fewer lanes, at most as many streams as
     * share a lane.
     */
    @ParameterizedTest(name = "{0} streams, parallelism {1}, {2} chunks each")
    @CsvSource({"2, 2, 60", "3, 4, 40", "4, 2, 40", "2, 1, 40", "6, 8, 30", "2, 2, 3", "4, 4, 3", "4, 4, 7"})
    void concurrentStreams_fillPacksOfTheirOwn(int streams, int parallelism, int chunks) throws Exception {
        try (Repository r = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("correct horse battery staple".toCharArray(), 19 * 1024, 2, 1))
                .packSize(PACK).chunkSizes(16 * 1024, 32 * 1024, CHUNK).create()) {
            DefaultRepository repo = (DefaultRepository) r;
            Map<BlobId, Integer> streamOf = new HashMap<>();
            List<PackEntry> packs;
            int lanes;
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                lanes = w.laneCount();
                CyclicBarrier start = new CyclicBarrier(streams);
                List<CompletableFuture<List<BlobId>>> writers = new ArrayList<>();
                for (int s = 0; s < streams; s++) {
                    int stream = s;
                    writers.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            start.await();
                            List<BlobId> out = new ArrayList<>();
                            for (CompletableFuture<BlobId> f : LaneStream.write(w, 1000L * stream + chunks, chunks, CHUNK, false)) {
                                out.add(f.join());
                            }
                            return out;
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }, java.util.concurrent.Executors.newSingleThreadExecutor()));
                }
                for (int s = 0; s < streams; s++) {
                    for (BlobId id : writers.get(s).join()) {
                        streamOf.put(id, s);
                    }
                }
                packs = w.finish();
                // every pack gave its permit back: those merged away and those stored
                assertEquals(0, w.packsInMemory(), "packs in memory after finish");
                assertEquals(Math.max(2, parallelism) + 1, w.freePackPermits(), "pack permits free after finish");
            }
            // a lane per worker, up to four
            assertEquals(Math.min(parallelism, 4), lanes, "lanes");
            assertEquals(repo.storage().list("data/").size(), packs.size(), "every stored pack is indexed");
            int blobs = 0;
            int mixed = 0;
            int streamsPerLane = (streams + lanes - 1) / lanes;
            for (PackEntry p : packs) {
                Set<Integer> in = new HashSet<>();
                for (PackEntry.Blob b : p.blobs()) {
                    in.add(streamOf.get(b.id()));
                }
                blobs += p.blobs().size();
                if (in.size() > streamsPerLane) {
                    mixed++;
                }
                // every blob reads back through the pack's trailer, where the merge put it
                assertEquals(p.blobs(), PackWriter.readTrailer(p.pack(), repo.storage().readAll(p.pack()), repo.sealer()),
                        "trailer of " + p.pack());
            }
            assertEquals(streams * chunks, blobs, "every blob stored once");
            // a merge puts two or more of the lanes' last packs into one
            assertTrue(mixed <= Math.max(1, lanes / 2), mixed + " of " + packs.size() + " packs hold blobs of more than "
                    + streamsPerLane + " stream(s); only those the lanes' last packs were merged into may");
            // the lanes' last packs merged: no more packs than the data needs plus one per lane that did not fit
            long stored = packs.stream().mapToLong(PackEntry::size).sum();
            assertTrue(packs.size() <= stored / PACK + lanes, packs.size() + " packs for " + stored + " bytes");
            if ((long) streams * chunks * CHUNK < PACK) {
                assertEquals(1, packs.size(), "what all lanes held fits one pack, and went into one");
            }
        }
    }
}
