package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.internal.Json;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.internal.repo.RepoConfig;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every versioned or magic-tagged object is checked on read, and a mismatch names the object, what
 * it found and what this backupkit supports. The objects here are sealed validly with the
 * repository's key, so only the format check can refuse them.
 */
class FormatChecksTest {
    @TempDir
    Path dir;
    Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
    LocalStorage disk;

    @BeforeEach
    void repository() {
        disk = LocalStorage.of(dir);
        try (Repository repo = Repository.builder().storage(disk).keyProvider(key).packSize(1024 * 1024).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(5, 3 * 1024 * 1024)));
        }
    }

    private Repository open() {
        return Repository.builder().storage(disk).keyProvider(key).open();
    }

    private String only(String prefix) {
        List<ObjectInfo> all = disk.list(prefix);
        assertEquals(1, all.size(), prefix);
        return all.get(0).name();
    }

    @Test
    void configVersion_isChecked() throws Exception {
        byte[] stored = disk.readAll("config");
        Sealer sealer = key.sealer();
        RepoConfig c = Json.MAPPER.readValue(sealer.open(stored, 5, stored.length - 5, Formats.AD_CONFIG).orElseThrow(), RepoConfig.class);
        int future = Formats.CONFIG_VERSION + 1;
        RepoConfig next = new RepoConfig(future, c.id(), c.encryption(), c.chunker(), c.compression(), c.packSize(), c.created());
        Forge.write(dir, "config", Forge.config(1, sealer, Forge.json(next)));
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> open().close());
        assertTrue(e.getMessage().contains("config") && e.getMessage().contains("version " + future)
                && e.getMessage().contains("versions 1 to " + Formats.CONFIG_VERSION) && e.getMessage().contains("upgrade"), e.getMessage());
    }

    @Test
    void manifestVersion_isChecked() {
        String name = only("snapshots/");
        Manifest m = Manifest.decode(name, disk.readAll(name), key.sealer());
        Manifest v2 = new Manifest(3, m.time(), m.hostname(), m.engine(), m.source(), m.tags(), m.streams(), m.metadata(),
                m.bytesRead(), m.bytesStored(), m.durationMillis(), null);
        disk.delete(name);
        String forged = Forge.writeAddressed(dir, "snapshots/", v2.encode(key.sealer()));
        try (Repository repo = open()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> repo.snapshots().list());
            assertTrue(e.getMessage().contains(forged) && e.getMessage().contains("version 3") && e.getMessage().contains("version 2"),
                    e.getMessage());
        }
    }

    @Test
    void keySlotVersion_isChecked() throws Exception {
        String name = only("keys/");
        com.fasterxml.jackson.databind.node.ObjectNode slot = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(disk.readAll(name));
        slot.put("version", 2);
        disk.delete(name);
        String forged = Forge.writeAddressed(dir, "keys/", Forge.json(slot));
        KeyException e = assertThrows(KeyException.class, () -> open().close());
        assertTrue(e.getMessage().contains(forged.substring(5, 17)) && e.getMessage().contains("version 2")
                && e.getMessage().contains("version 1"), e.getMessage());
    }

    @Test
    void indexMagic_isChecked() {
        String name = only("index/");
        byte[] plain = key.sealer().open(disk.readAll(name), Formats.AD_INDEX).orElseThrow();
        plain[3] = '7';
        disk.delete(name);
        String forged = Forge.writeAddressed(dir, "index/", key.sealer().seal(plain, Formats.AD_INDEX));
        IntegrityException e = assertThrows(IntegrityException.class, () -> IndexFile.decode(forged, disk.readAll(forged), key.sealer()));
        assertEquals(forged, e.objectName());
        assertTrue(e.getMessage().contains("BKI7") && e.getMessage().contains("BKI1"), e.getMessage());
        try (Repository repo = open()) {
            VerificationReport r = Verifier.builder().repository(repo).build().verify();
            assertFalse(r.passed());
            assertTrue(r.failures().toString().contains("BKI7"), r.failures().toString());
        }
    }

    @Test
    void packTrailerMagic_isChecked_byReadingTheTrailer_andByStandardVerification() {
        String index = only("index/");
        List<PackEntry> packs = IndexFile.decode(index, disk.readAll(index), key.sealer());
        PackEntry victim = packs.get(0);
        byte[] pack = disk.readAll(victim.pack());
        // rebuild the pack with a trailer sealed validly but tagged "BKP9"
        int tlen = ((pack[pack.length - 4] & 0xff) << 24) | ((pack[pack.length - 3] & 0xff) << 16)
                | ((pack[pack.length - 2] & 0xff) << 8) | (pack[pack.length - 1] & 0xff);
        int trailerStart = pack.length - 4 - tlen;
        byte[] trailer = key.sealer().open(pack, trailerStart, tlen, Formats.AD_PACK_TRAILER).orElseThrow();
        trailer[3] = '9';
        byte[] sealedTrailer = key.sealer().seal(trailer, Formats.AD_PACK_TRAILER);
        byte[] forged = Arrays.copyOf(pack, trailerStart + sealedTrailer.length + 4);
        System.arraycopy(sealedTrailer, 0, forged, trailerStart, sealedTrailer.length);
        forged[forged.length - 4] = (byte) (sealedTrailer.length >>> 24);
        forged[forged.length - 3] = (byte) (sealedTrailer.length >>> 16);
        forged[forged.length - 2] = (byte) (sealedTrailer.length >>> 8);
        forged[forged.length - 1] = (byte) sealedTrailer.length;
        String forgedName = Formats.packName(Hashes.sha256Hex(forged));
        Forge.write(dir, forgedName, forged);
        disk.delete(victim.pack());
        List<PackEntry> renamed = packs.stream()
                .map(p -> p == victim ? new PackEntry(forgedName, forged.length, p.blobs()) : p).toList();
        disk.delete(index);
        Forge.writeAddressed(dir, "index/", IndexFile.encode(IndexFile.BACKUP, List.of(), renamed, key.sealer()));

        IntegrityException e = assertThrows(IntegrityException.class, () -> PackWriter.readTrailer(forgedName, forged, key.sealer()));
        assertEquals(forgedName, e.objectName());
        assertTrue(e.getMessage().contains("BKP9") && e.getMessage().contains("BKP1"), e.getMessage());
        try (Repository repo = open()) {
            VerificationReport r = Verifier.builder().repository(repo).build().verify();
            assertFalse(r.passed(), "STANDARD verification reads the trailers of the packs it uses");
            assertTrue(r.failures().toString().contains(forgedName) && r.failures().toString().contains("BKP9"), r.failures().toString());
        }
    }
}
