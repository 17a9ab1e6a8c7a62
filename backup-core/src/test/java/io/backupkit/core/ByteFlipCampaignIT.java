package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.internal.repo.Formats;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Byte-flip campaign: {@value #DEFAULT_FLIPS} seeded single-byte flips (more with
 * {@code -Dbackupkit.flips=N}, seed {@code -Dbackupkit.flips.seed}) spread evenly over every object
 * kind of a real repository (three snapshots sharing data, two key slots). After each flip the
 * repository is opened, every snapshot verified at STANDARD and restored; every flip must be detected
 * (by open, verification or restore) and no restore may return wrong bytes.
 */
class ByteFlipCampaignIT {
    static final int DEFAULT_FLIPS = 1000;
    static final int FLIPS = Integer.getInteger("backupkit.flips", DEFAULT_FLIPS);
    static final long SEED = Long.getLong("backupkit.flips.seed", 424242L);

    enum Kind { CONFIG, KEY_SLOT, PACK_BLOB, PACK_TRAILER, INDEX, MANIFEST }

    /** What caught a flip: open; verification and restore; verification only (restore unaffected); restore only. */
    enum Outcome { OPEN, VERIFY_AND_RESTORE, VERIFY_ONLY, RESTORE_ONLY, UNDETECTED, WRONG_RESTORE }

    @TempDir
    Path dir;

    private static GeneratedSource source(int generation) {
        // later generations keep most streams and change some: snapshots share packs
        return new GeneratedSource()
                .stream("pre-data", () -> DumpLikeData.stream(1, 30_000))
                .stream("data-0001", () -> DumpLikeData.stream(2, 600_000))
                .stream("data-0002", () -> data2(generation))
                .stream("post-data", () -> new ByteArrayInputStream(("generation " + generation).getBytes()));
    }

    private static java.io.InputStream data2(int generation) {
        return new SequenceInputStream(DumpLikeData.stream(3, 300_000), DumpLikeData.stream(10 + generation, 250_000));
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.MINUTES)
    void everyFlip_isDetected_andNoRestoreReturnsWrongBytes() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("flip.key"));
        MemoryStorage storage = new MemoryStorage();
        List<String> snapshots = new ArrayList<>();
        try (Repository repo = Repository.builder().storage(storage).keyFile(keyFile).packSize(1024 * 1024)
                .chunkSizes(16 * 1024, 32 * 1024, 128 * 1024).create()) {
            repo.keys().add(Repos.password(Repos.PASSWORD));
            for (int g = 0; g < 3; g++) {
                snapshots.add(BackupManager.builder().repository(repo).source(source(g)).parallelism(2).build().backup().snapshotId());
            }
        }
        Map<String, Map<String, String>> expected = new LinkedHashMap<>();
        try (Repository repo = open(storage, keyFile)) {
            for (int g = 0; g < 3; g++) {
                DigestTarget t = Repos.restore(repo, snapshots.get(g));
                assertEquals(DigestTarget.digestOf(data2(g)).getKey(), t.digests().get("data-0002"));
                expected.put(snapshots.get(g), t.digests());
                VerificationReport r = Verifier.builder().repository(repo).snapshot(snapshots.get(g)).parallelism(2).build().verify();
                assertTrue(r.passed(), r.failures().toString());
            }
        }
        Map<Kind, List<String>> objects = new EnumMap<>(Kind.class);
        objects.put(Kind.CONFIG, List.of(Formats.CONFIG));
        objects.put(Kind.KEY_SLOT, names(storage, Formats.KEYS));
        objects.put(Kind.PACK_BLOB, names(storage, Formats.DATA));
        objects.put(Kind.PACK_TRAILER, names(storage, Formats.DATA));
        objects.put(Kind.INDEX, names(storage, Formats.INDEX));
        objects.put(Kind.MANIFEST, names(storage, Formats.SNAPSHOTS));
        assertTrue(objects.get(Kind.PACK_BLOB).size() >= 3 && objects.get(Kind.INDEX).size() == 3
                && objects.get(Kind.KEY_SLOT).size() == 2, "a real repository: " + objects);

        Map<Kind, Map<Outcome, Integer>> counts = new EnumMap<>(Kind.class);
        List<String> failures = new ArrayList<>();
        Random random = new Random(SEED);
        for (int i = 0; i < FLIPS; i++) {
            Kind kind = Kind.values()[i % Kind.values().length];
            List<String> candidates = objects.get(kind);
            String name = candidates.get(random.nextInt(candidates.size()));
            byte[] original = storage.bytes(name);
            int at = offset(kind, original, random);
            int mask = 1 + random.nextInt(255);
            byte[] flipped = original.clone();
            flipped[at] ^= (byte) mask;
            storage.put(name, flipped);
            Outcome outcome;
            try {
                outcome = check(storage, keyFile, expected);
            } finally {
                storage.put(name, original);
            }
            counts.computeIfAbsent(kind, k -> new EnumMap<>(Outcome.class)).merge(outcome, 1, Integer::sum);
            if (outcome == Outcome.UNDETECTED || outcome == Outcome.WRONG_RESTORE) {
                failures.add(outcome + ": flip " + i + " of " + name + " at " + at + "/" + original.length + " (xor " + mask + ")");
            }
        }
        counts.forEach((k, v) -> System.out.println("byte flips " + k + ": " + v));
        int total = counts.values().stream().flatMap(m -> m.values().stream()).mapToInt(Integer::intValue).sum();
        assertEquals(FLIPS, total);
        assertTrue(failures.isEmpty(), failures.size() + " flips not detected or restored wrong: " + failures.subList(0, Math.min(20, failures.size()))
                + "\n" + counts);
        // the repository is intact again after the campaign
        try (Repository repo = open(storage, keyFile)) {
            assertEquals(expected.get(snapshots.get(2)), Repos.restore(repo, snapshots.get(2)).digests());
        }
    }

    private static List<String> names(MemoryStorage storage, String prefix) {
        return storage.list(prefix).stream().map(ObjectInfo::name).sorted().toList();
    }

    /** A byte of the object's region: for packs, the blobs or the sealed trailer with its length field. */
    private static int offset(Kind kind, byte[] object, Random random) {
        if (kind != Kind.PACK_BLOB && kind != Kind.PACK_TRAILER) {
            return random.nextInt(object.length);
        }
        int n = object.length;
        int tlen = ((object[n - 4] & 0xff) << 24) | ((object[n - 3] & 0xff) << 16) | ((object[n - 2] & 0xff) << 8) | (object[n - 1] & 0xff);
        int trailerStart = n - 4 - tlen;
        return kind == Kind.PACK_BLOB ? random.nextInt(trailerStart) : trailerStart + random.nextInt(tlen + 4);
    }

    private static Repository open(MemoryStorage storage, Path keyFile) {
        return Repository.builder().storage(storage).keyFile(keyFile).open();
    }

    /** Opens, verifies every snapshot at STANDARD, restores every snapshot; says what caught the flip. */
    private static Outcome check(MemoryStorage storage, Path keyFile, Map<String, Map<String, String>> expected) {
        Repository repo;
        try {
            repo = open(storage, keyFile);
        } catch (IntegrityException | KeyException | ConfigurationException e) {
            return Outcome.OPEN;
        }
        try (repo) {
            boolean verifyFailed = false;
            for (String id : expected.keySet()) {
                VerificationReport r = Verifier.builder().repository(repo).snapshot(id).parallelism(2).build().verify();
                verifyFailed |= !r.passed();
            }
            boolean restoreFailed = false;
            for (Map.Entry<String, Map<String, String>> e : expected.entrySet()) {
                DigestTarget t;
                try {
                    t = Repos.restore(repo, e.getKey());
                } catch (IntegrityException failed) {
                    restoreFailed = true;
                    continue;
                }
                if (!t.digests().equals(e.getValue())) {
                    return Outcome.WRONG_RESTORE;
                }
            }
            if (verifyFailed) {
                return restoreFailed ? Outcome.VERIFY_AND_RESTORE : Outcome.VERIFY_ONLY;
            }
            return restoreFailed ? Outcome.RESTORE_ONLY : Outcome.UNDETECTED;
        }
    }
}
