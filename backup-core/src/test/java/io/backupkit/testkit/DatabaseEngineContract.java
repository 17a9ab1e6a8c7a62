package io.backupkit.testkit;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestoreResult;
import io.backupkit.Snapshot;
import io.backupkit.TargetExistsException;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every database engine must do through the {@code DatabaseEngine} SPI, whatever it stores
 * (a PostgreSQL or MariaDB database, an SQLite file, a Redis instance): back a sample database up,
 * restore it into a new target with the same content, list the snapshot under the engine's name,
 * verify it, refuse to restore over an existing target unless asked, and store little for a second
 * backup of unchanged data. Published in backup-core's test jar; each engine module's test extends
 * it with a small fixture:
 *
 * <pre>{@code
 * class SqliteEngineContractIT extends DatabaseEngineContract<Path> {
 *     protected String engineName() { return "sqlite"; }
 *     protected Path createSampleDatabase() { ... a file with a few MB in several tables ... }
 *     protected Path newTarget() { return dir.resolve("restored-" + n++ + ".db"); }
 *     protected void modify(Path db) { ... update a few rows ... }
 *     protected Map<String, String> digest(Path db) { ... table -> hash of its rows ... }
 *     protected boolean exists(Path db) { return Files.exists(db); }
 *     protected BackupSource source(Path db) { return SqliteSource.builder().file(db).build(); }
 *     protected RestoreTarget target(Path db, boolean replaceExisting) { ... }
 * }
 * }</pre>
 *
 * <p>The handle type {@code D} is whatever names a database of the engine for the fixture: a
 * database name, a file, a server. The fixture starts and stops its servers itself (for example in
 * {@code @BeforeAll}/{@code @AfterAll} of the subclass); each test asks for new databases through
 * {@link #createSampleDatabase()} and {@link #newTarget()} and gets them back in {@link #dispose}.
 *
 * @param <D> how the fixture names a database (or instance) of its engine
 */
public abstract class DatabaseEngineContract<D> {
    /** Every database a test made, disposed of after the test. */
    private final List<D> made = new ArrayList<>();
    private Repository repository;

    @TempDir
    Path contractDirectory;

    /** The engine name every snapshot of this engine records ({@code DatabaseEngine.name()}). */
    protected abstract String engineName();

    /**
     * A new database with sample data: several tables (or keys, …) with a few MB in all, so that
     * deduplication is measurable. Two calls may return the same content; the names must differ.
     */
    protected abstract D createSampleDatabase();

    /** The name of a database that does not exist yet (for a server engine: an empty instance), to restore into. */
    protected abstract D newTarget();

    /** Changes a small part of the content of {@code database}, so that its digest changes. */
    protected abstract void modify(D database);

    /**
     * The content of {@code database}, as item → digest (a table, a key space, …): equal maps mean
     * equal content. Compared after restores, so it must not depend on physical layout.
     */
    protected abstract Map<String, String> digest(D database);

    /** Whether {@code database} exists (for an instance: holds any data). */
    protected abstract boolean exists(D database);

    /** A source that backs {@code database} up. */
    protected abstract BackupSource source(D database);

    /**
     * A target that restores into {@code database}; with {@code replaceExisting} it may replace an
     * existing one (what the engine's builder calls {@code dropExisting()} or similar).
     */
    protected abstract RestoreTarget target(D database, boolean replaceExisting);

    /**
     * The scratch target of COMPREHENSIVE verification, or empty when the engine cannot verify by
     * restoring (then that test is skipped, not passed).
     */
    protected Optional<RestoreTarget> scratchTarget() {
        return Optional.empty();
    }

    /** Removes a database the test made (drop it, delete the file, stop the instance); default: nothing. */
    protected void dispose(D database) {
    }

    /** Checks after COMPREHENSIVE verification that its scratch database is gone; default: nothing. */
    protected void assertNoScratchLeft() {
    }

    /**
     * A new repository for one test; default: an encrypted repository on local disk in a temporary
     * directory, with small chunks (16 / 64 / 256 KiB) so that a sample of a few MB spans many chunks
     * and {@link #secondBackupOfUnchangedData_storesLittle()} measures the engine, not the chunk size.
     */
    protected Repository openRepository(Path directory) {
        return Repository.builder().location(directory.resolve("repo").toString())
                .password("engine-contract".toCharArray()).chunkSizes(16 * 1024, 64 * 1024, 256 * 1024).openOrCreate();
    }

    /**
     * How many bytes a second backup of unchanged data may store, given the first backup: new blobs,
     * index and manifest. Default: a tenth of the first backup, at least 128 KiB.
     */
    protected long unchangedBackupAllowance(BackupResult first) {
        return Math.max(first.bytesStored() / 10, 128 * 1024);
    }

    /** Parallelism of backups, restores and verifications in the contract (default 2). */
    protected int parallelism() {
        return 2;
    }

    /** The repository of the running test. */
    protected final Repository repository() {
        return repository;
    }

    /** Records a database for {@link #dispose} after the test (sample databases and targets are recorded already). */
    protected final D track(D database) {
        made.add(database);
        return database;
    }

    @BeforeEach
    void openContractRepository() {
        repository = openRepository(contractDirectory);
    }

    @AfterEach
    void closeContractRepository() {
        try {
            for (D d : made) {
                dispose(d);
            }
        } finally {
            made.clear();
            if (repository != null) {
                repository.close();
            }
        }
    }

    private D sample() {
        return track(createSampleDatabase());
    }

    private D target() {
        return track(newTarget());
    }

    protected final BackupResult backup(D database) {
        return BackupManager.builder().repository(repository).source(source(database)).parallelism(parallelism())
                .tag("contract", "engine").build().backup();
    }

    protected final RestoreResult restore(String snapshotId, RestoreTarget target) {
        return RestoreManager.builder().repository(repository).snapshot(snapshotId).target(target)
                .parallelism(parallelism()).build().restore();
    }

    @Test
    void backup_thenRestoreIntoNewTarget_sameContent() {
        D source = sample();
        Map<String, String> before = digest(source);
        assertFalse(before.isEmpty(), "the sample database must have content");
        BackupResult result = backup(source);
        assertTrue(result.bytesRead() > 0, "the backup read nothing");

        D target = target();
        assertFalse(exists(target), "newTarget() must name a database that does not exist yet");
        RestoreResult restored = restore(result.snapshotId(), target(target, false));
        assertFalse(restored.dryRun());
        assertTrue(exists(target), "the restore did not create " + target);
        assertEquals(before, digest(target), "restored content differs from the source");
        assertEquals(before, digest(source), "the backup changed the source");
    }

    @Test
    void snapshot_isListedWithTheEngineName() {
        D source = sample();
        BackupResult result = backup(source);
        List<Snapshot> listed = repository.snapshots().list();
        assertEquals(1, listed.size(), listed.toString());
        Snapshot s = listed.get(0);
        assertEquals(result.snapshotId(), s.id());
        assertEquals(engineName(), s.engine());
        assertEquals(engineName(), source(source).engine());
        assertEquals("engine", s.tags().get("contract"));
        assertFalse(s.streams().isEmpty(), "a snapshot without streams");
        assertFalse(s.source().isBlank(), "the snapshot does not say what was backed up");
        assertEquals(result.bytesRead(), s.bytesRead());
        assertEquals(s.id(), repository.snapshots().get("latest").id());
    }

    @Test
    void verify_passesAtQuickAndStandard() {
        backup(sample());
        for (VerificationLevel level : List.of(VerificationLevel.QUICK, VerificationLevel.STANDARD)) {
            VerificationReport report = Verifier.builder().repository(repository).level(level)
                    .parallelism(parallelism()).build().verify();
            assertTrue(report.passed(), level + ": " + report.failures());
            assertFalse(report.checks().isEmpty(), level + " ran no checks");
        }
    }

    @Test
    void verify_passesAtComprehensive_whereTheEngineSupportsIt() {
        Optional<RestoreTarget> scratch = scratchTarget();
        assumeTrue(scratch.isPresent(), engineName() + " does not verify by restoring");
        backup(sample());
        VerificationReport report = Verifier.builder().repository(repository).level(VerificationLevel.COMPREHENSIVE)
                .scratchTarget(scratch.get()).parallelism(parallelism()).build().verify();
        assertTrue(report.passed(), "COMPREHENSIVE: " + report.failures());
        assertNoScratchLeft();
    }

    @Test
    void restore_intoExistingTarget_isRefusedUnlessAsked_andChangesNothing() {
        D source = sample();
        BackupResult result = backup(source);
        D occupied = sample();
        modify(occupied);
        Map<String, String> occupiedBefore = digest(occupied);
        assertNotEquals(digest(source), occupiedBefore, "modify() must change the digest");

        TargetExistsException e = assertThrows(TargetExistsException.class,
                () -> restore(result.snapshotId(), target(occupied, false)));
        assertFalse(e.target().isBlank(), "TargetExistsException.target() is blank");
        assertTrue(exists(occupied));
        assertEquals(occupiedBefore, digest(occupied), "a refused restore changed the existing target");

        restore(result.snapshotId(), target(occupied, true));
        assertEquals(digest(source), digest(occupied), "a restore asked to replace the target did not");
    }

    @Test
    void dryRun_plansAndChangesNothing() {
        BackupResult result = backup(sample());
        D target = target();
        RestoreResult plan = RestoreManager.builder().repository(repository).snapshot(result.snapshotId())
                .target(target(target, false)).dryRun().build().restore();
        assertTrue(plan.dryRun());
        assertFalse(plan.plan().actions().isEmpty(), "a plan without actions");
        assertFalse(exists(target), "a dry run created the target");
    }

    @Test
    void secondBackupOfUnchangedData_storesLittle() {
        D source = sample();
        BackupResult first = backup(source);
        BackupResult second = backup(source);
        assertNotEquals(first.snapshotId(), second.snapshotId());
        long allowed = unchangedBackupAllowance(first);
        assertTrue(second.bytesStored() <= allowed, "second backup of unchanged data stored " + second.bytesStored()
                + " bytes; allowed " + allowed + " (first stored " + first.bytesStored() + ")");

        D target = target();
        restore(second.snapshotId(), target(target, false));
        assertEquals(digest(source), digest(target));
    }
}
