package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Argon2Limits;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.codec.BuiltinCodecs;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobIndex;
import io.backupkit.internal.repo.BlobLists;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.IndexFile;
import io.backupkit.internal.repo.KeySlotFile;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.internal.repo.RepoConfig;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzzing campaign: the decoders of config, key slot, index, pack trailer and snapshot manifest get
 * {@value #DEFAULT_INPUTS} mutated inputs each (more with {@code -Dbackupkit.fuzz.inputs=N}; seed
 * {@code -Dbackupkit.fuzz.seed}). Most inputs are mutated <em>behind</em> authentication: the
 * plaintext is mutated and then sealed validly with the repository's own data key (or the checksum
 * recomputed, or the content-addressed name recomputed), so the decoders themselves are exercised,
 * not just the GCM tag. The only acceptable outcomes are success or IntegrityException / KeyException /
 * ConfigurationException; an unchecked exception, an error, a hang or a huge allocation fails the
 * campaign with the input's seed for reproduction.
 */
class FuzzCampaignIT {
    static final int DEFAULT_INPUTS = 10_000;
    static final int INPUTS = Integer.getInteger("backupkit.fuzz.inputs", DEFAULT_INPUTS);
    static final long SEED = Long.getLong("backupkit.fuzz.seed", 20261130L);
    /** An input may not allocate more than this (decoders must bound allocations by real data). */
    static final long MAX_ALLOCATION = 256L << 20;
    static final long MAX_MILLIS_PER_INPUT = 30_000;

    static Path tmp;
    static Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
    static Sealer sealer;
    static MemoryStorage repo;
    static Path keyFile;
    static MemoryStorage keyFileRepo;
    static byte[] configStored;
    static byte[] configJson;
    static byte[] plainConfigJson;
    static List<byte[]> slotSamples = new ArrayList<>();
    static byte[] indexStored;
    static byte[] indexPlain;
    static int[] indexFields;
    static List<byte[]> packs = new ArrayList<>();
    static byte[] manifestStored;
    static byte[] manifestJson;
    static List<byte[]> corpus = new ArrayList<>();
    static final Map<String, String> SUMMARY = new TreeMap<>();

    @BeforeAll
    static void realRepository() throws IOException {
        tmp = Files.createTempDirectory("fuzz");
        keyFile = KeyProviders.generateKeyFile(tmp.resolve("fuzz.key"));
        repo = new MemoryStorage();
        try (Repository r = Repository.builder().storage(repo).keyProvider(key).packSize(1024 * 1024)
                .chunkSizes(16 * 1024, 64 * 1024, 256 * 1024).create()) {
            BackupManager.builder().repository(r).parallelism(2).source(new GeneratedSource()
                    .stream("pre-data", () -> DumpLikeData.stream(1, 40_000))
                    .stream("data-0001", () -> DumpLikeData.stream(2, 4_000_000))
                    .stream("data-0002", () -> DumpLikeData.stream(3, 2_000_000))).build().backup();
            r.keys().add(KeyProviders.keyFile(keyFile));
            r.keys().add(Repos.password(Repos.PASSWORD));
        }
        sealer = key.sealer();
        configStored = repo.bytes(Formats.CONFIG);
        configJson = sealer.open(configStored, 5, configStored.length - 5, Formats.AD_CONFIG).orElseThrow();
        RepoConfig c = io.backupkit.internal.Json.MAPPER.readValue(configJson, RepoConfig.class);
        plainConfigJson = Forge.json(new RepoConfig(c.version(), c.id(), RepoConfig.UNENCRYPTED, c.chunker(), c.compression(),
                c.packSize(), c.created()));
        for (ObjectInfo o : repo.list(Formats.KEYS)) {
            slotSamples.add(repo.bytes(o.name()));
        }
        String index = repo.list(Formats.INDEX).get(0).name();
        indexStored = repo.bytes(index);
        indexPlain = sealer.open(indexStored, Formats.AD_INDEX).orElseThrow();
        indexFields = indexLengthFields(indexPlain);
        for (ObjectInfo o : repo.list(Formats.DATA)) {
            packs.add(repo.bytes(o.name()));
        }
        String snapshot = repo.list(Formats.SNAPSHOTS).get(0).name();
        manifestStored = repo.bytes(snapshot);
        byte[] plain = sealer.open(manifestStored, Formats.AD_SNAPSHOT).orElseThrow();
        manifestJson = BuiltinCodecs.ZSTD.decompress(plain, 5, plain.length - 5, getInt(plain, 0));
        // a repository opened with the key file only, for the open loop: a mutated slot beside the real one
        keyFileRepo = new MemoryStorage();
        Repository.builder().storage(keyFileRepo).keyFile(keyFile).create().close();
        corpus.addAll(List.of(configJson, indexPlain, manifestJson));
        corpus.addAll(slotSamples);
        assertTrue(packs.size() >= 2 && slotSamples.size() == 3, "a real repository: " + packs.size() + " packs");
    }

    @AfterAll
    static void summary() throws IOException {
        SUMMARY.forEach((k, v) -> System.out.println("fuzz " + k + ": " + v));
        try (var s = Files.walk(tmp)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    /** Offsets of the packCount, name-length (as part of a 4-byte window), size (8, negative) and blobCount fields. */
    private static int[] indexLengthFields(byte[] plain) {
        List<Integer> f = new ArrayList<>();
        int off;
        if (plain[3] == '2') {
            // BKI2: kind, then the commit list
            f.add(4);
            f.add(8);
            int commits = getInt(plain, 8);
            off = 12;
            for (int i = 0; i < commits; i++) {
                f.add(off);
                off += 2 + (((plain[off] & 0xff) << 8) | (plain[off + 1] & 0xff));
            }
        } else {
            off = 4;
        }
        f.add(off);
        int packs = getInt(plain, off);
        off += 4;
        for (int i = 0; i < packs; i++) {
            int nlen = ((plain[off] & 0xff) << 8) | (plain[off + 1] & 0xff);
            f.add(off);
            off += 2 + nlen;
            f.add(-off - 1);
            f.add(off + 8);
            int count = getInt(plain, off + 8);
            off += 12;
            if (count > 0) {
                f.add(off + 32);
                f.add(off + 36);
                f.add(off + 40);
            }
            off += count * 44;
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }

    /** One decoder call on one input; returns true when the input was accepted. */
    @FunctionalInterface
    interface Target {
        boolean run(Mutator m, int i) throws Exception;
    }

    private static void campaign(String name, Target target) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        long maxMillis = 0;
        long maxAlloc = 0;
        for (int i = 0; i < INPUTS; i++) {
            long seed = SEED * 1_000_003L + name.hashCode() * 31L + i;
            Mutator m = new Mutator(seed, corpus);
            long a0 = threads.getThreadAllocatedBytes(tid);
            long t0 = System.nanoTime();
            String outcome;
            try {
                outcome = target.run(m, i) ? "accepted" : "not authenticated";
            } catch (IntegrityException | KeyException | ConfigurationException e) {
                outcome = e.getClass().getSimpleName();
            } catch (Throwable t) {
                outcome = "CRASH " + t.getClass().getSimpleName();
                if (failures.size() < 10) {
                    java.io.StringWriter w = new java.io.StringWriter();
                    t.printStackTrace(new java.io.PrintWriter(w));
                    failures.add(name + " input " + i + " (seed " + seed + ", mutations: " + m.applied() + "): " + w);
                }
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long alloc = threads.getThreadAllocatedBytes(tid) - a0;
            maxMillis = Math.max(maxMillis, millis);
            maxAlloc = Math.max(maxAlloc, alloc);
            if (millis > MAX_MILLIS_PER_INPUT && failures.size() < 10) {
                failures.add(name + " input " + i + " (seed " + seed + ", " + m.applied() + ") took " + millis + " ms");
            }
            if (alloc > MAX_ALLOCATION && failures.size() < 10) {
                failures.add(name + " input " + i + " (seed " + seed + ", " + m.applied() + ") allocated " + (alloc >> 20) + " MiB");
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        SUMMARY.put(name, INPUTS + " inputs " + outcomes + ", slowest " + maxMillis + " ms, most allocated " + (maxAlloc >> 20) + " MiB");
        if (!failures.isEmpty()) {
            fail(failures.size() + " bad outcomes in " + name + " (" + outcomes + "):\n" + String.join("\n", failures));
        }
        assertTrue(outcomes.getOrDefault("accepted", 0) > 0 || name.equals("pack trailer"),
                "some mutated inputs must still decode, or the campaign only tests the first check: " + outcomes);
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void config() {
        campaign("config", (m, i) -> {
            int variant = i % 10;
            if (variant == 0) {
                // outside the seal: header and ciphertext
                byte[] stored = m.bytes(configStored);
                return RepoConfig.open(stored, sealer, true).isPresent();
            }
            if (variant == 1) {
                // an unencrypted config: the checksum is recomputed, so the JSON decoder sees the mutation
                byte[] stored = Forge.config(0, Sealer.checksumOnly(), m.json(plainConfigJson));
                return RepoConfig.open(stored, Sealer.checksumOnly(), false).isPresent();
            }
            byte[] json = m.json(configJson);
            int mode = m.random().nextInt(20) == 0 ? m.random().nextInt(256) : 1;
            byte[] stored = Forge.config(mode, sealer, json);
            boolean ok = RepoConfig.open(stored, sealer, true).isPresent();
            if (ok && i % 20 == 2) {
                // and the whole open path on top of it, which builds the chunker and codec
                MemoryStorage s = MemoryStorage.copyOf(repo);
                s.delete(Formats.CONFIG);
                s.put(Formats.CONFIG, stored);
                Repository.builder().storage(s).keyProvider(key).open().close();
            }
            return ok;
        });
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void keySlot() {
        // Argon2id is deterministic: each (salt, memory, passes, lanes) is computed for real once, then remembered,
        // so every accepted password slot is unwrapped (not 1 in 25) at the cost of the distinct parameter sets.
        // A salt mutated to new bytes under parameters already computed gets a stand-in key instead: the real
        // one would differ from the slot's key just the same (the wrapped key fails GCM either way), and
        // Bouncy Castle already ran with those parameters.
        Map<String, byte[]> remembered = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.Set<String> shapesComputed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger realRuns = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger unwraps = new java.util.concurrent.atomic.AtomicInteger();
        KeyProvider password = new io.backupkit.internal.crypto.PasswordKeyProvider(Repos.PASSWORD, 19 * 1024, 2, 1,
                (pw, salt, m, t, p) -> {
                    String shape = m + "/" + t + "/" + p;
                    String full = shape + "/" + java.util.HexFormat.of().formatHex(salt);
                    byte[] known = remembered.get(full);
                    if (known != null) {
                        return known.clone();
                    }
                    if (shapesComputed.add(shape)) {
                        realRuns.incrementAndGet();
                        byte[] real = io.backupkit.internal.crypto.Kdf.argon2id(pw, salt, m, t, p);
                        remembered.put(full, real.clone());
                        return real;
                    }
                    return Hashes.sha256(full.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, full.length());
                });
        // the real slot's own (salt, parameters) first, so unmutated salts get the real key
        for (byte[] sample : slotSamples) {
            KeySlotFile f = KeySlotFile.decode(Formats.KEYS + Hashes.sha256Hex(sample), sample);
            if (f.type().equals("password")) {
                assertTrue(password.unwrap(f.toSlot(Formats.KEYS + Hashes.sha256Hex(sample))).isPresent(), "the real slot opens");
            }
        }
        KeyProvider keyFileProvider = KeyProviders.keyFile(keyFile);
        String realSlot = keyFileRepo.list(Formats.KEYS).get(0).name();
        campaign("key slot", (m, i) -> {
            byte[] sample = slotSamples.get(i % slotSamples.size());
            byte[] mutated = m.json(sample);
            // content-addressed: the name follows the mutated bytes, so the hash check passes
            String name = Formats.KEYS + Hashes.sha256Hex(mutated);
            boolean accepted;
            try {
                KeySlotFile f = KeySlotFile.decode(name, mutated);
                KeySlot slot = f.toSlot(name);
                switch (f.type()) {
                    case "password" -> {
                        Argon2Limits.Params p = Argon2Limits.fromSlot(slot.parameters());
                        if (p.memoryKiB() <= 32 * 1024 && p.iterations() <= 3) {
                            password.unwrap(slot);
                            unwraps.incrementAndGet();
                        }
                    }
                    case "keyfile" -> keyFileProvider.unwrap(slot);
                    default -> key.unwrap(slot);
                }
                accepted = true;
            } finally {
                // the open loop: the mutated slot is tried first and must never stop the real one
                MemoryStorage s = MemoryStorage.copyOf(keyFileRepo);
                s.put(name, mutated);
                HookedStorage first = new HookedStorage(s);
                first.onList = l -> {
                    List<ObjectInfo> r = new ArrayList<>(l);
                    r.sort(java.util.Comparator.comparing((ObjectInfo o) -> !o.name().equals(name)));
                    return r;
                };
                try (Repository r = Repository.builder().storage(first).keyFile(keyFile).open()) {
                    if (!r.keys().list().stream().anyMatch(k -> k.current())) {
                        throw new AssertionError("no current slot");
                    }
                } catch (IntegrityException | KeyException | ConfigurationException e) {
                    throw new AssertionError("one mutated slot stopped the real slot " + realSlot + " from opening: " + e, e);
                }
            }
            return accepted;
        });
        SUMMARY.put("key slot (password unwraps)", unwraps.get() + " mutated password slots unwrapped, " + realRuns.get()
                + " real Argon2id runs (one per distinct memory/passes/lanes)");
        assertTrue(unwraps.get() > 0, "accepted password slots are unwrapped");
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void index() {
        campaign("index", (m, i) -> {
            byte[] stored = i % 10 == 0 ? m.bytes(indexStored) : sealer.seal(m.bytes(indexPlain, indexFields), Formats.AD_INDEX);
            String name = Formats.INDEX + Hashes.sha256Hex(stored);
            List<PackEntry> packsRead = IndexFile.decode(name, stored, sealer);
            BlobIndex.empty(true).add(name, packsRead);
            return true;
        });
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void packTrailer() {
        campaign("pack trailer", (m, i) -> {
            byte[] pack = packs.get(i % packs.size());
            int tlen = getInt(pack, pack.length - 4);
            int start = pack.length - 4 - tlen;
            byte[] forged;
            int variant = i % 10;
            if (variant == 0) {
                forged = m.bytes(pack);
            } else {
                byte[] trailer = sealer.open(pack, start, tlen, Formats.AD_PACK_TRAILER).orElseThrow();
                List<Integer> fields = new ArrayList<>(List.of(4));
                for (int e = 8; e + 44 <= trailer.length; e += 44) {
                    fields.addAll(List.of(e + 32, e + 36, e + 40));
                }
                byte[] t = variant == 1 ? trailer : m.bytes(trailer, fields.stream().mapToInt(Integer::intValue).toArray());
                byte[] sealed = sealer.seal(t, Formats.AD_PACK_TRAILER);
                forged = Arrays.copyOf(pack, start + sealed.length + 4);
                System.arraycopy(sealed, 0, forged, start, sealed.length);
                putInt(forged, forged.length - 4, sealed.length);
                if (variant == 1) {
                    // the length field itself
                    forged = m.bytes(forged, forged.length - 4);
                }
            }
            String name = Formats.packName(Hashes.sha256Hex(forged));
            List<PackEntry.Blob> whole = PackWriter.readTrailer(name, forged, sealer);
            MemoryStorage s = new MemoryStorage();
            s.put(name, forged);
            List<PackEntry.Blob> ranged = PackWriter.readTrailer(name, s, forged.length, sealer);
            if (!whole.equals(ranged)) {
                throw new AssertionError("whole-pack and ranged trailer reads disagree");
            }
            return true;
        });
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void manifest() {
        campaign("manifest", (m, i) -> {
            byte[] stored;
            int variant = i % 10;
            if (variant == 0) {
                stored = m.bytes(manifestStored);
            } else {
                byte[] plain;
                if (variant <= 2) {
                    byte[] p = sealer.open(manifestStored, Formats.AD_SNAPSHOT).orElseThrow();
                    plain = m.bytes(p, 0, 1);
                } else {
                    byte[] json = m.json(manifestJson);
                    byte[] z = BuiltinCodecs.ZSTD.compress(json, 0, json.length);
                    plain = new byte[5 + z.length];
                    putInt(plain, 0, m.random().nextInt(10) == 0 ? m.random().nextInt() : json.length);
                    plain[4] = (byte) (m.random().nextInt(20) == 0 ? m.random().nextInt(256) : 1);
                    System.arraycopy(z, 0, plain, 5, z.length);
                }
                stored = sealer.seal(plain, Formats.AD_SNAPSHOT);
            }
            String name = Manifest.nameOf(stored);
            Manifest manifest = Manifest.decode(name, stored, sealer);
            // what readers do with a decoded manifest
            manifest.toSnapshot(Formats.idOf(name));
            for (Manifest.StreamEntry s : manifest.streams()) {
                (s.blobs() != null ? s.blobs() : s.lists()).forEach(BlobId::parse);
                manifest.stream(s.name());
            }
            return true;
        });
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void indexState() {
        String pack = Formats.packName(Hashes.sha256Hex(new byte[] {1}));
        byte[] plain = sealer.open(IndexFile.encodeState(new IndexFile.State(List.of(Formats.INDEX + Hashes.sha256Hex(new byte[] {2})),
                List.of(new IndexFile.Annotation(IndexFile.OBSOLETE, pack), new IndexFile.Annotation(IndexFile.DELETED, pack))), sealer),
                Formats.AD_INDEX).orElseThrow();
        campaign("index state", (m, i) -> {
            byte[] stored = sealer.seal(m.bytes(plain, 8, 12, 14 + 64 + 7, 14 + 64 + 7 + 5), Formats.AD_INDEX);
            String name = Formats.INDEX_STATE + Hashes.sha256Hex(stored);
            IndexFile.readState(name, stored, sealer);
            return true;
        });
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void blobList() {
        BlobLists.Builder b = new BlobLists.Builder();
        for (int k = 0; k < 5; k++) {
            b.add(BlobId.of(Hashes.sha256(new byte[] {(byte) k}, 0, 1)));
        }
        byte[] plain = b.take();
        campaign("blob list", (m, i) -> {
            BlobLists.decode(m.bytes(plain, 4), "snapshots/x");
            return true;
        });
    }
}
