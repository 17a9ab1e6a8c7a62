package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.repo.BlobLocation;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Packs are self-describing: each is named by its SHA-256 and its trailer lists exactly what the index says. */
class PackFormatTest {
    @TempDir
    Path dir;

    @Test
    void everyPack_isNamedByItsHash_andItsTrailerMatchesTheIndex() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).packSize(1024 * 1024).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(9, 8 * 1024 * 1024)));
            DefaultRepository d = (DefaultRepository) repo;
            List<ObjectInfo> packs = repo.storage().list(Formats.DATA);
            assertFalse(packs.isEmpty());
            for (ObjectInfo p : packs) {
                byte[] bytes = repo.storage().readAll(p.name());
                assertEquals(Formats.idOf(p.name()), Hashes.sha256Hex(bytes));
                assertEquals(p.name(), Formats.packName(Hashes.sha256Hex(bytes)));
                List<PackEntry.Blob> trailer = PackWriter.readTrailer(p.name(), bytes, d.sealer());
                assertFalse(trailer.isEmpty());
                for (PackEntry.Blob b : trailer) {
                    BlobLocation loc = d.locationIndex().get(b.id());
                    assertEquals(new BlobLocation(p.name(), b.offset(), b.length(), b.rawLength()), loc);
                }
            }
        }
    }
}
