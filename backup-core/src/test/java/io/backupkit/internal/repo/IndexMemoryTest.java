package io.backupkit.internal.repo;

import io.backupkit.LocalStorage;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The in-memory index costs at most 48 bytes per blob with locations and 32 without (issue 11), counted
 * over every byte its records and buckets hold, on 2 million blobs loaded from real index objects.
 */
class IndexMemoryTest {
    @TempDir
    Path dir;

    @Test
    void twoMillionBlobs_locationsUnder48BytesEach_dedupSetUnder32() {
        LocalStorage storage = LocalStorage.of(dir);
        Sealer sealer = Sealer.checksumOnly();
        SplittableRandom random = new SplittableRandom(48);
        int blobs = 2_000_000;
        int perPack = 2000;
        List<BlobId> sample = new ArrayList<>();
        List<PackEntry> packs = new ArrayList<>();
        for (int p = 0; p < blobs / perPack; p++) {
            byte[] name = new byte[32];
            random.nextBytes(name);
            List<PackEntry.Blob> list = new ArrayList<>(perPack);
            for (int b = 0; b < perPack; b++) {
                byte[] id = new byte[32];
                random.nextBytes(id);
                BlobId bid = BlobId.of(id);
                if (b == 7) {
                    sample.add(bid);
                }
                list.add(new PackEntry.Blob(bid, b * 100, 100, 150));
            }
            packs.add(new PackEntry(Formats.packName(io.backupkit.internal.crypto.Hashes.hex(name)), perPack * 100L + 200, list));
            if (packs.size() == 100) {
                write(storage, sealer, packs);
                packs.clear();
            }
        }
        write(storage, sealer, packs);

        BlobIndex locations = BlobIndex.load(storage, sealer, true);
        assertEquals(blobs, locations.blobCount());
        for (BlobId id : sample) {
            BlobLocation loc = locations.get(id);
            assertNotNull(loc);
            assertEquals(700, loc.offset());
            assertEquals(150, loc.rawLength());
        }
        byte[] absent = new byte[32];
        assertFalse(locations.contains(BlobId.of(absent)));
        System.out.printf("location table: %.1f bytes per blob, dedup set: ", locations.bytesPerBlob());
        assertTrue(locations.bytesPerBlob() <= 48, "location table: " + locations.bytesPerBlob() + " bytes per blob");

        BlobIndex dedup = BlobIndex.load(storage, sealer, false);
        System.out.printf("%.1f bytes per blob%n", dedup.bytesPerBlob());
        assertTrue(dedup.bytesPerBlob() <= 32, "dedup set: " + dedup.bytesPerBlob() + " bytes per blob");
        sample.forEach(id -> assertTrue(dedup.containsForDedup(id)));
    }

    private static void write(LocalStorage storage, Sealer sealer, List<PackEntry> packs) {
        if (packs.isEmpty()) {
            return;
        }
        byte[] stored = IndexFile.encode(IndexFile.BACKUP, List.of(), packs, sealer);
        storage.putIfAbsent(Formats.INDEX + io.backupkit.internal.crypto.Hashes.sha256Hex(stored), Payload.of(stored));
    }
}
