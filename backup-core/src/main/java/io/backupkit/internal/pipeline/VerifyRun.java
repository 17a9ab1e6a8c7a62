package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.IntegrityException;
import io.backupkit.Repository;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.BlobIndex;
import io.backupkit.internal.repo.BlobReader;
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
            BlobIndex index;
            try {
                index = repo.locationIndex();
                checks.add(VerificationCheck.passed("index", index.blobCount() + " blobs indexed"));
            } catch (IntegrityException e) {
                checks.add(VerificationCheck.failed("index", e.getMessage()));
                return report(id, checks, t0);
            }
            Map<String, Long> packs = quick(m, new BlobReader(repo, index), id, checks);
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
                            if (Thread.currentThread().isInterrupted()) {
                                // the caller stopped the verification: that is no verdict on the snapshot
                                throw e;
                            }
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
    private Map<String, Long> quick(Manifest m, BlobReader reader, String id, List<VerificationCheck> checks) {
        Map<String, Long> packs = new HashMap<>();
        for (ObjectInfo o : repo.storage().list(Formats.DATA)) {
            packs.put(o.name(), o.size());
        }
        for (Manifest.StreamEntry s : m.streams()) {
            String problem = null;
            long bad = 0;
            BlobReader.StreamIds ids;
            try {
                ids = reader.ids(s, Formats.SNAPSHOTS + id);
                ids.hasNext();
            } catch (BackupException e) {
                checks.add(VerificationCheck.failed("blobs of stream " + s.name(), "the stream's blob list is unreadable: " + e.getMessage()));
                continue;
            }
            while (true) {
                BlobId blob;
                try {
                    if (!ids.hasNext()) {
                        break;
                    }
                    blob = ids.next();
                } catch (BackupException e) {
                    bad++;
                    problem = problem == null ? "a blob list is unreadable: " + e.getMessage() : problem;
                    break;
                }
                BlobLocation loc = reader.index().get(blob);
                String p = null;
                if (loc == null) {
                    p = "blob " + blob + " is in no index";
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
            checks.add(bad == 0 ? VerificationCheck.passed(name, s.count() + " blobs present")
                    : VerificationCheck.failed(name, bad + " of " + s.count() + " blobs unavailable; first: " + problem));
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
    private VerificationCheck packTrailers(Manifest m, SnapshotReader reader, Map<String, Long> stored, ExecutorService pool) {
        // the packs the snapshot uses (memory grows with packs, not blobs)
        BlobIndex index = reader.blobReader().index();
        java.util.Set<String> used = new java.util.TreeSet<>();
        for (Manifest.StreamEntry s : m.streams()) {
            try {
                BlobReader.StreamIds ids = reader.ids(s);
                while (ids.hasNext()) {
                    BlobLocation loc = index.get(ids.next());
                    if (loc != null) {
                        used.add(loc.pack());
                    }
                }
                for (String list : s.lists()) {
                    BlobLocation loc = index.get(BlobId.parse(list));
                    if (loc != null) {
                        used.add(loc.pack());
                    }
                }
            } catch (BackupException e) {
                // an unreadable blob list is reported by the stream's own check
            }
        }
        Map<String, Long> indexed = index.packs();
        List<CompletableFuture<String>> results = new ArrayList<>();
        for (String pack : used) {
            results.add(CompletableFuture.supplyAsync(() -> trailerProblem(pack, index, indexed, stored), pool));
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

    /** The pack's trailer authenticates, tiles the pack, and says of every blob the index places in it what the index says. */
    private String trailerProblem(String pack, BlobIndex index, Map<String, Long> indexed, Map<String, Long> stored) {
        Long size = indexed.get(pack);
        Long actual = stored.get(pack);
        if (actual == null) {
            return pack + ": pack is missing";
        }
        if (size == null || actual.longValue() != size) {
            return pack + ": pack has " + actual + " bytes, its index says " + size;
        }
        try {
            for (PackEntry.Blob t : PackWriter.readTrailer(pack, repo.storage(), size, repo.sealer())) {
                BlobLocation loc = index.get(t.id());
                if (loc == null) {
                    continue;
                }
                if (loc.pack().equals(pack) && (t.offset() != loc.offset() || t.length() != loc.length()
                        || t.rawLength() != loc.rawLength())) {
                    return pack + ": trailer and index disagree about blob " + t.id();
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
            checks.add(packTrailers(m, reader, packs, pool));
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
