package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.IntegrityException;
import io.backupkit.Repository;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobLocation;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.internal.repo.Manifest;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.RestoreTarget;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Verifies one snapshot at a level; damage becomes failed checks, never exceptions. */
public final class VerifyRun {
    private final DefaultRepository repo;
    private final String snapshot;
    private final VerificationLevel level;
    private final RestoreTarget scratch;
    private final int parallelism;
    private final CommandExecutor executor;

    public VerifyRun(Repository repository, String snapshot, VerificationLevel level, RestoreTarget scratch, int parallelism,
                     CommandExecutor executor) {
        this.repo = PipelineSupport.internal(repository);
        this.snapshot = snapshot;
        this.level = level;
        this.scratch = scratch;
        this.parallelism = parallelism;
        this.executor = executor;
    }

    public VerificationReport run() {
        long t0 = System.nanoTime();
        String id = repo.resolveSnapshotId(snapshot);
        List<VerificationCheck> checks = new ArrayList<>();
        try (LockManager.Lock lock = repo.locks().acquire(false, "verify")) {
            Manifest m;
            try {
                m = repo.manifest(id);
                checks.add(VerificationCheck.passed("manifest", "snapshot manifest readable, " + m.streams().size() + " streams"));
            } catch (IntegrityException e) {
                checks.add(VerificationCheck.failed("manifest", e.getMessage()));
                return report(id, checks, t0);
            }
            try {
                repo.refreshIndex();
                checks.add(VerificationCheck.passed("index", repo.index().blobCount() + " blobs indexed"));
            } catch (IntegrityException e) {
                checks.add(VerificationCheck.failed("index", e.getMessage()));
            }
            Map<String, Long> packs = quick(m, checks);
            if (level == VerificationLevel.QUICK) {
                return report(id, checks, t0);
            }
            configAndKeySlots(checks);
            try (SnapshotReader reader = new SnapshotReader(repo, id, parallelism, executor, List.of())) {
                standard(m, reader, packs, checks);
                if (level == VerificationLevel.COMPREHENSIVE) {
                    if (checks.stream().anyMatch(VerificationCheck::failed)) {
                        checks.add(VerificationCheck.skipped("restore", "not restored: the snapshot's data is damaged"));
                    } else {
                        try {
                            checks.addAll(scratch.verifyByRestore(reader));
                        } catch (BackupException e) {
                            checks.add(VerificationCheck.failed("restore", "restore into " + scratch.describe() + " failed: " + e.getMessage()));
                        }
                    }
                }
            }
        }
        return report(id, checks, t0);
    }

    private VerificationReport report(String id, List<VerificationCheck> checks, long t0) {
        return new VerificationReport(id, level, checks, Duration.ofNanos(System.nanoTime() - t0));
    }

    /** QUICK's checks; returns the stored packs and their sizes. */
    private Map<String, Long> quick(Manifest m, List<VerificationCheck> checks) {
        Map<String, Long> packs = new HashMap<>();
        for (ObjectInfo o : repo.storage().list(Formats.DATA)) {
            packs.put(o.name(), o.size());
        }
        for (Manifest.StreamEntry s : m.streams()) {
            String problem = null;
            int bad = 0;
            for (String hex : s.blobs()) {
                BlobLocation loc = repo.index().get(BlobId.parse(hex));
                String p = null;
                if (loc == null) {
                    p = "blob " + hex.substring(0, 12) + " is in no index";
                } else if (!packs.containsKey(loc.pack())) {
                    p = loc.pack() + " is missing";
                } else if ((long) loc.offset() + loc.length() > packs.get(loc.pack())) {
                    p = loc.pack() + " is shorter than its index says";
                }
                if (p != null) {
                    bad++;
                    problem = problem == null ? p : problem;
                }
            }
            String name = "blobs of stream " + s.name();
            checks.add(bad == 0 ? VerificationCheck.passed(name, s.blobs().size() + " blobs present")
                    : VerificationCheck.failed(name, bad + " of " + s.blobs().size() + " blobs unavailable; first: " + problem));
        }
        return packs;
    }

    /** The config is still the one opened and every key slot is readable: they are data a restore needs too. */
    private void configAndKeySlots(List<VerificationCheck> checks) {
        List<String> errors = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        try {
            repo.checkConfigAndKeySlots(errors, warnings);
        } catch (BackupException e) {
            errors.add(e.getMessage());
        }
        String name = "config and key slots";
        if (errors.isEmpty()) {
            checks.add(VerificationCheck.passed(name, "config authentic and unchanged, key slots readable"
                    + (warnings.isEmpty() ? "" : "; " + String.join("; ", warnings))));
        } else {
            checks.add(VerificationCheck.failed(name, errors.size() + " problem(s); first: " + errors.get(0)));
        }
    }

    /**
     * Every pack the snapshot uses has an authentic trailer that tiles the pack and agrees with the
     * index: stream reads cover the blobs, this covers the rest of each pack's bytes.
     */
    private VerificationCheck packTrailers(Manifest m, Map<String, Long> stored, ExecutorService pool) {
        Map<String, List<BlobLocation>> used = new HashMap<>();
        Map<BlobLocation, BlobId> ids = new HashMap<>();
        for (Manifest.StreamEntry s : m.streams()) {
            for (String hex : s.blobs()) {
                BlobId b = BlobId.parse(hex);
                BlobLocation loc = repo.index().get(b);
                if (loc != null && ids.putIfAbsent(loc, b) == null) {
                    used.computeIfAbsent(loc.pack(), p -> new ArrayList<>()).add(loc);
                }
            }
        }
        Map<String, Long> indexed = repo.index().packs();
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (Map.Entry<String, List<BlobLocation>> e : used.entrySet()) {
            results.add(CompletableFuture.supplyAsync(() -> trailerProblem(e.getKey(), e.getValue(), ids, indexed, stored), pool));
        }
        List<String> problems = new ArrayList<>();
        results.forEach(f -> {
            String p = f.join();
            if (p != null) {
                problems.add(p);
            }
        });
        return problems.isEmpty()
                ? VerificationCheck.passed("pack trailers", used.size() + " packs: trailers authentic, agree with the index")
                : VerificationCheck.failed("pack trailers", problems.size() + " of " + used.size() + " packs damaged; first: " + problems.get(0));
    }

    private String trailerProblem(String pack, List<BlobLocation> used, Map<BlobLocation, BlobId> ids, Map<String, Long> indexed,
                                  Map<String, Long> stored) {
        Long size = indexed.get(pack);
        Long actual = stored.get(pack);
        if (actual == null) {
            return pack + ": pack is missing";
        }
        if (size == null || actual.longValue() != size) {
            return pack + ": pack has " + actual + " bytes, its index says " + size;
        }
        try {
            Map<BlobId, PackEntry.Blob> trailer = new HashMap<>();
            for (PackEntry.Blob b : PackWriter.readTrailer(pack, repo.storage(), size, repo.sealer())) {
                trailer.put(b.id(), b);
            }
            for (BlobLocation loc : used) {
                PackEntry.Blob t = trailer.get(ids.get(loc));
                if (t == null || t.offset() != loc.offset() || t.length() != loc.length() || t.rawLength() != loc.rawLength()) {
                    return pack + ": trailer and index disagree about blob " + ids.get(loc);
                }
            }
            return null;
        } catch (BackupException e) {
            return e.getMessage();
        }
    }

    private void standard(Manifest m, SnapshotReader reader, Map<String, Long> packs, List<VerificationCheck> checks) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, parallelism));
        try {
            List<CompletableFuture<VerificationCheck>> results = new ArrayList<>();
            for (Manifest.StreamEntry s : m.streams()) {
                results.add(CompletableFuture.supplyAsync(() -> readStream(reader, s), pool));
            }
            checks.add(packTrailers(m, packs, pool));
            results.forEach(f -> checks.add(f.join()));
        } finally {
            pool.shutdownNow();
        }
    }

    private static VerificationCheck readStream(SnapshotReader reader, Manifest.StreamEntry s) {
        String name = "content of stream " + s.name();
        try (InputStream in = reader.openStream(s.name())) {
            byte[] buf = new byte[64 * 1024];
            while (in.read(buf) >= 0) {
                // reading to the end checks every blob and the stream's SHA-256
            }
            return VerificationCheck.passed(name, s.size() + " bytes, " + (s.overChunks() ? "chunk digest " : "SHA-256 ")
                    + s.sha256().substring(0, 16) + "… matches");
        } catch (BackupException e) {
            return VerificationCheck.failed(name, e.getMessage());
        } catch (IOException e) {
            return VerificationCheck.failed(name, "read failed: " + e.getMessage());
        }
    }
}
