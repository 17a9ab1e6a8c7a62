package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLocation;
import io.backupkit.internal.repo.BlobReader;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup fills its next packs in the buffers of the packs it stored, so it allocates a few pack buffers
 * however many packs it stores, and its packs come out as they did in new buffers. A buffer goes to a new
 * pack only once nothing reads the old one: never while a put (slow, failing, or on another upload
 * thread) may still read it, and never for a storage that may keep the array after the put.
 */
class BlobWriterBufferReuseTest {
    private static final int CHUNK = 64 * 1024;
    private static final int PACK = 1024 * 1024;
    /** What a full pack's buffer holds: the pack size, the largest chunk and room for its trailer (BlobWriter). */
    private static final int FULL = PACK + CHUNK + 64 * 1024;
    /** A pack permit's first pack: segments of 1 MiB for up to a full pack (two for these 1 MiB packs), then its full-size array. */
    private static final long PER_PERMIT = FULL + (1 << 20) + FULL;
    private static final char[] PASSWORD = "correct horse battery staple".toCharArray();

    @TempDir
    Path dir;

    /**
     * The same chunks, written by one stream into two unencrypted repositories (unencrypted: sealing is
     * deterministic), one on a storage done with a payload when its put returns and one on a storage that
     * keeps every array: the same packs, byte for byte. The first allocates pack memory for a few packs per
     * pack permit however many packs it stores (a pack with no stored pack's buffer to fill fills segments
     * of 1 MiB, then one array of the full size, which later packs fill again), the second a new buffer for
     * each pack, and none of the arrays it kept changed afterwards.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void aBackupOfManyPacks_reusesAFewBuffers_andStoresTheSamePacksAsWithNewBuffers(long seed) {
        List<byte[]> chunks = mixedChunks(seed, 1200);
        int permits = Math.max(2, 1) + 1;
        PayloadChecker reusing = PayloadChecker.on(LocalStorage.of(dir.resolve("reusing")), seed, 5);
        PayloadChecker keeping = PayloadChecker.keepingOn(LocalStorage.of(dir.resolve("keeping")), seed, 5);
        try (Repository a = unencrypted(reusing.storage()); Repository b = unencrypted(keeping.storage())) {
            Written withReuse = writeOneStream((DefaultRepository) a, chunks);
            Written withNewBuffers = writeOneStream((DefaultRepository) b, chunks);

            keeping.checkKeptArrays();
            assertEquals(List.of(), keeping.problems());
            assertEquals(List.of(), reusing.problems());
            assertEquals(withNewBuffers.packs(), withReuse.packs(), "the same packs, blobs and offsets");
            List<String> names = names(keeping.storage());
            assertEquals(names, names(reusing.storage()), "the same objects stored");
            for (String name : names) {
                assertArrayEquals(keeping.storage().readAll(name), reusing.storage().readAll(name), name);
            }
            assertReadsBack((DefaultRepository) a, reusing.storage(), chunks);

            assertTrue(withReuse.packs().size() >= 20, "only " + withReuse.packs().size() + " packs: too few to test reuse");
            assertTrue(withReuse.bytesAllocated() <= permits * PER_PERMIT, withReuse.bytesAllocated() + " bytes of pack buffers allocated for "
                    + withReuse.packs().size() + " packs, at most " + permits * PER_PERMIT + " expected with " + permits + " permits");
            assertTrue(withNewBuffers.bytesAllocated() >= (long) withNewBuffers.packs().size() * PACK, withNewBuffers.bytesAllocated()
                    + " bytes of pack buffers allocated for " + withNewBuffers.packs().size() + " packs on a storage that keeps arrays");
        }
    }

    /** A backup that fills one small pack allocates one 1 MiB segment and an array of the pack's size. */
    @Test
    void aSmallBackup_allocatesOneSegmentAndThePacksSize() {
        List<byte[]> chunks = mixedChunks(9, 5);
        try (Repository r = unencrypted(PayloadChecker.on(LocalStorage.of(dir.resolve("repo")), 9, 0).storage())) {
            Written w = writeOneStream((DefaultRepository) r, chunks);
            assertEquals(1, w.packs().size());
            assertEquals((1 << 20) + w.packs().get(0).size(), w.bytesAllocated(), "a 1 MiB segment and the pack's own array");
        }
    }

    /**
     * Several streams in several lanes, upload threads ≥ 2, storage slower than the workers: packs are
     * filled in the buffers of stored packs while other packs are being stored, and no pack changes while
     * it is stored; every stored pack is the pack its name hashes, and its trailer and blobs read back.
     */
    @ParameterizedTest(name = "{0} streams, parallelism {1}, seed {2}")
    @CsvSource({"2, 2, 11", "4, 4, 12", "6, 4, 13", "3, 8, 14"})
    void packsBeingStored_neverChange_whileLaterPacksFillReusedBuffers(int streams, int parallelism, long seed) throws Exception {
        PayloadChecker slow = PayloadChecker.on(LocalStorage.of(dir.resolve("repo")), seed, 30);
        try (Repository r = encrypted(slow.storage())) {
            DefaultRepository repo = (DefaultRepository) r;
            List<List<byte[]>> data = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                data.add(randomChunks(seed * 100 + s, 512 / streams));
            }
            List<PackEntry> packs;
            long allocated;
            int lanes;
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                lanes = w.laneCount();
                LaneStream.writeAtOnce(w, data, false);
                packs = w.finish();
                allocated = w.packBufferBytesAllocated();
            }
            assertEquals(List.of(), slow.problems());
            int permits = Math.max(2, parallelism) + 1;
            // each permit's first pack fills segments, then a full-size array; a merge at the end may add one array per lane
            assertTrue(allocated <= permits * PER_PERMIT + (long) lanes * FULL, allocated + " bytes of pack buffers allocated for " + packs.size() + " packs");
            assertEquals(names(slow.storage()).size(), packs.size(), "every stored pack is indexed");
            List<byte[]> all = new ArrayList<>();
            data.forEach(all::addAll);
            assertEquals(all.size(), assertReadsBack(repo, slow.storage(), all), "every blob stored once");
        }
    }

    /**
     * A pack whose put fails after holding its array while later packs were stored (their buffers going to
     * new packs): its array is not handed to a new pack while the put holds it, the writer reports the
     * failure, and every pack that was stored reads back.
     */
    @ParameterizedTest(name = "{0} streams, parallelism {1}, pack {2} fails")
    @CsvSource({"2, 2, 3", "4, 4, 4", "3, 2, 6"})
    void aPackWhosePutFails_keepsItsBufferUntilThePutReturns(int streams, int parallelism, int failAt) throws Exception {
        PayloadChecker failing = PayloadChecker.on(LocalStorage.of(dir.resolve("repo")), failAt, 20).failPackPut(failAt, 2);
        try (Repository r = encrypted(failing.storage())) {
            DefaultRepository repo = (DefaultRepository) r;
            List<List<byte[]>> data = new ArrayList<>();
            for (int s = 0; s < streams; s++) {
                data.add(randomChunks(failAt * 100L + s, 384 / streams));
            }
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                LaneStream.writeAtOnce(w, data, true);
                BackupException e = assertThrows(BackupException.class, w::finish);
                assertTrue(String.valueOf(e.getMessage()).contains("injected failure")
                        || e.getCause() != null && String.valueOf(e.getCause().getMessage()).contains("injected failure"), e.toString());
            }
            assertTrue(failing.storedWhileHeld() >= 2, "packs stored while the failing put held its array: "
                    + failing.storedWhileHeld() + ", 2 expected");
            assertEquals(List.of(), failing.problems());
            List<byte[]> all = new ArrayList<>();
            data.forEach(all::addAll);
            assertReadsBack(repo, failing.storage(), all);
        }
    }

    private record Written(List<PackEntry> packs, long bytesAllocated) {
    }

    /** One stream, one worker (so blobs go into packs in the order written), everything stored. */
    private static Written writeOneStream(DefaultRepository repo, List<byte[]> chunks) {
        try (BlobWriter w = new BlobWriter(repo, 1, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
            LaneStream.write(w, chunks, false).forEach(CompletableFuture::join);
            List<PackEntry> packs = new ArrayList<>(w.finish());
            packs.sort((x, y) -> x.pack().compareTo(y.pack()));
            return new Written(packs, w.packBufferBytesAllocated());
        }
    }

    /**
     * Reads every stored pack back as a restore does: its name is its bytes' hash, its trailer opens, and
     * each blob authenticates, decompresses and matches its id and the chunk written.
     *
     * @return the blobs read
     */
    private static int assertReadsBack(DefaultRepository repo, Storage storage, List<byte[]> chunks) {
        Map<BlobId, byte[]> byId = new HashMap<>();
        for (byte[] c : chunks) {
            byId.put(repo.blobId(c, 0, c.length), c);
        }
        int blobs = 0;
        for (String name : names(storage)) {
            byte[] pack = storage.readAll(name);
            assertEquals(name, Formats.packName(Hashes.hex(Hashes.sha256(pack, 0, pack.length))), "pack name and bytes");
            for (PackEntry.Blob b : PackWriter.readTrailer(name, pack, repo.sealer())) {
                byte[] plain = BlobReader.decode(repo, b.id(), new BlobLocation(name, b.offset(), b.length(), b.rawLength()),
                        pack, b.offset());
                assertArrayEquals(byId.get(b.id()), plain, "blob " + b.id() + " of " + name);
                blobs++;
            }
        }
        return blobs;
    }

    private static List<String> names(Storage storage) {
        return storage.list("data/").stream().map(ObjectInfo::name).sorted().toList();
    }

    private static Repository unencrypted(Storage storage) {
        return Repository.builder().storage(storage).unencrypted().packSize(PACK).chunkSizes(16 * 1024, 32 * 1024, CHUNK).create();
    }

    private static Repository encrypted(Storage storage) {
        return Repository.builder().storage(storage).keyProvider(KeyProviders.password(PASSWORD.clone(), 19 * 1024, 2, 1))
                .packSize(PACK).chunkSizes(16 * 1024, 32 * 1024, CHUNK).create();
    }

    /** Chunks of 8–64 KiB, half of them random and half compressible (two bits a byte), so blobs differ in size. */
    private static List<byte[]> mixedChunks(long seed, int n) {
        Random random = new Random(seed);
        List<byte[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] c = new byte[8 * 1024 + random.nextInt(CHUNK - 8 * 1024 + 1)];
            if (random.nextBoolean()) {
                random.nextBytes(c);
            } else {
                for (int j = 0; j < c.length; j++) {
                    c[j] = (byte) ('a' + random.nextInt(4));
                }
            }
            out.add(c);
        }
        return out;
    }

    private static List<byte[]> randomChunks(long seed, int n) {
        Random random = new Random(seed);
        List<byte[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] c = new byte[CHUNK];
            random.nextBytes(c);
            out.add(c);
        }
        return out;
    }
}
