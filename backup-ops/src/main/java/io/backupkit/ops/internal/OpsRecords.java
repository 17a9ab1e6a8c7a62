package io.backupkit.ops.internal;

import io.backupkit.IntegrityException;
import io.backupkit.Repository;
import io.backupkit.ops.RunRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The scheduler's records in the repository: one claim per job and tick (write-once, so exactly one
 * replica runs a tick) and one run record per finished run. Layout in docs/repository-format.md.
 */
public final class OpsRecords {
    private static final Logger LOG = LoggerFactory.getLogger(OpsRecords.class);
    public static final String ROOT = "ops/";
    static final int KEEP_CLAIMS = 200;
    static final int KEEP_RUNS = 1000;

    private final Repository repository;

    public OpsRecords(Repository repository) {
        this.repository = repository;
    }

    /** What a claim says about who ran a tick. */
    public record Claim(String job, Instant tick, String host, long pid, Instant claimed) {
    }

    static String claimsPrefix(String job) {
        return ROOT + job + "/claims/";
    }

    static String runsPrefix(String job) {
        return ROOT + job + "/runs/";
    }

    static String claimName(String job, Instant tick) {
        return claimsPrefix(job) + String.format("%012d", tick.getEpochSecond());
    }

    /** Claims {@code tick} for this process; false when another process claimed it first. */
    public boolean claim(String job, Instant tick, Instant now) {
        Claim c = new Claim(job, tick, Hosts.name(), ProcessHandle.current().pid(), now);
        return repository.records().create(claimName(job, tick), OpsJson.write(c));
    }

    /** Who claimed a tick, if anyone (and the claim is readable). */
    public Optional<Claim> claimOf(String job, Instant tick) {
        String name = claimName(job, tick);
        return repository.records().read(name).map(b -> OpsJson.read(name, b, Claim.class));
    }

    /**
     * The newest tick of a job claimed (by this or any other replica) at or before {@code now}. Only a
     * claim that authenticates counts: an object planted under a claim's name by someone who can write
     * the storage but has no key, or a claim dated in the future, would otherwise make the job wait
     * for that tick and run nothing until then.
     */
    public Optional<Instant> lastClaimedTick(String job, Instant now) {
        List<String> names = repository.records().list(claimsPrefix(job)).stream()
                .filter(n -> n.substring(n.lastIndexOf('/') + 1).matches("\\d{12}"))
                .sorted(Comparator.reverseOrder()).toList();
        for (String name : names) {
            Instant tick = Instant.ofEpochSecond(Long.parseLong(name.substring(name.lastIndexOf('/') + 1)));
            if (tick.isAfter(now)) {
                LOG.warn("ignoring the claim {} of job {}: its tick is in the future", name, job);
                continue;
            }
            try {
                if (repository.records().read(name).isPresent()) {
                    return Optional.of(tick);
                }
            } catch (IntegrityException e) {
                LOG.warn("ignoring a claim of job {}: {}", job, e.getMessage());
            }
        }
        return Optional.empty();
    }

    public void saveRun(RunRecord run) {
        String name = runsPrefix(run.job()) + String.format("%015d", run.finished().toEpochMilli()) + "-"
                + HexFormat.of().formatHex(randomBytes());
        repository.records().create(name, OpsJson.write(run));
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    /** Jobs that have records in this repository. */
    public List<String> jobs() {
        return repository.records().list(ROOT).stream()
                .map(n -> n.substring(ROOT.length()))
                .filter(n -> n.indexOf('/') > 0)
                .map(n -> n.substring(0, n.indexOf('/')))
                .distinct().sorted().toList();
    }

    /** A job's run records, oldest first; an unreadable record is skipped with a warning (and listed in {@code damaged}). */
    public List<RunRecord> runs(String job, List<String> damaged) {
        List<String> names = new ArrayList<>(repository.records().list(runsPrefix(job)));
        names.sort(Comparator.naturalOrder());
        List<RunRecord> out = new ArrayList<>();
        for (String n : names) {
            try {
                repository.records().read(n).ifPresent(b -> out.add(OpsJson.read(n, b, RunRecord.class)));
            } catch (IntegrityException e) {
                LOG.warn("skipping run record: {}", e.getMessage());
                if (damaged != null) {
                    damaged.add(e.getMessage());
                }
            }
        }
        return out;
    }

    /** Every job's run records, oldest first. */
    public List<RunRecord> allRuns(List<String> damaged) {
        List<RunRecord> all = new ArrayList<>();
        for (String job : jobs()) {
            all.addAll(runs(job, damaged));
        }
        all.sort(Comparator.comparing(RunRecord::finished));
        return all;
    }

    /** Deletes all but the newest claims and run records of a job; failures are only logged. */
    public void trim(String job) {
        try {
            trim(claimsPrefix(job), KEEP_CLAIMS);
            trim(runsPrefix(job), KEEP_RUNS);
        } catch (RuntimeException e) {
            LOG.warn("trimming old records of job {} failed (will retry after the next run): {}", job, e.getMessage());
        }
    }

    private void trim(String prefix, int keep) {
        List<String> names = new ArrayList<>(repository.records().list(prefix));
        if (names.size() <= keep) {
            return;
        }
        names.sort(Comparator.naturalOrder());
        for (String n : names.subList(0, names.size() - keep)) {
            repository.records().delete(n);
        }
    }
}
