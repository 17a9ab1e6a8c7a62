package io.backupkit.sqlite;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.sqlite.internal.SqliteFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance of the SQLite engine (issue 15): a live database backed up while another process writes,
 * restored, checked and compared; page-aligned deduplication of a second backup. The database size is
 * {@code -Dbackupkit.it.sqliteMiB} (default 200).
 */
class SqliteBackupIT {
    static final int ROW_BYTES = 1000;

    @TempDir
    Path dir;

    static int rowsFor(int mib) {
        // about 1.3 KB of file per row: payload, name, index entry, page slack
        return (int) ((long) mib * 1024 * 1024 / (ROW_BYTES + 330));
    }

    static int mib() {
        return Integer.getInteger("backupkit.it.sqliteMiB", 200);
    }

    private Repository repository() {
        return Repository.builder().location(dir.resolve("repo").toString()).password("sqlite-it".toCharArray()).openOrCreate();
    }

    @Test
    void liveDatabase_backedUpWhileAnotherProcessWrites_restorePassesIntegrityCheckAndEqualsTheSnapshot() throws Exception {
        Path db = dir.resolve("live.db");
        int rows = rowsFor(mib());
        SqliteTestData.create(db, true, rows, ROW_BYTES, 1);
        assertTrue(Files.size(db) >= (long) mib() * 1024 * 1024 * 9 / 10, "database size " + Files.size(db));
        BackupResult result;
        long before;
        long after;
        try (ChildWriter writer = new ChildWriter("write", db); Repository repo = repository()) {
            writer.awaitReady();
            writer.awaitCommitted(200);
            before = writer.committed();
            result = BackupManager.builder().repository(repo).source(SqliteSource.builder().path(db).build()).build().backup();
            after = writer.committed();
            assertTrue(writer.alive(), "the writer kept running: " + writer.output());
            // another process committed while the copy was taken: the backup did not stop it
            writer.awaitCommitted(after + 100);
        }
        System.out.printf("sqlite live backup: %d MiB in %s, writer commits during backup: %d%n",
                result.bytesRead() >> 20, result.duration(), after - before);

        Path restored = dir.resolve("restored/live-copy.db");
        try (Repository repo = repository()) {
            io.backupkit.RestoreResult rr = RestoreManager.builder().repository(repo).snapshot(result.snapshotId())
                    .target(SqliteTarget.builder().path(restored).build()).build().restore();
            System.out.printf("sqlite restore: %d MiB in %s%n", rr.bytesRestored() >> 20, rr.duration());
        }
        // The digest the backup recorded while it read the database, recomputed here from the restored file
        // by the documented rule for its kind (docs/repository-format.md), not read back through the
        // repository: the restored file is the image the backup took, byte for byte.
        SnapshotStream stream = result.snapshot().streams().get(0);
        int block = ((Number) result.snapshot().metadata().get("blockSize")).intValue();
        assertEquals(Files.size(restored), stream.size());
        assertEquals((Files.size(restored) + block - 1) / block, stream.blobCount(), "one chunk per block of " + block + " bytes");
        assertEquals(SnapshotStream.SHA256_CHUNKS, stream.digest(), "a new repository is format 2");
        assertEquals(stream.sha256(), sha256OverBlocks(restored, block), "the restored file is the snapshot's image byte for byte");
        try (Connection c = SqliteFiles.openImmutable(restored)) {
            assertEquals(List.of(), SqliteFiles.integrityProblems(c, restored, false, 10));
            long transfers = SqliteTestData.checkInvariant(c);
            assertTrue(transfers >= before, "the snapshot holds the transfers committed before it started: " + transfers + " < " + before);
            SqliteFiles.Facts facts = SqliteFiles.facts(c, restored, true);
            assertEquals(result.snapshot().metadata().get("schemaSha256"), facts.schemaSha256());
            assertEquals("wal", result.snapshot().metadata().get("journalMode"), "the source's journal mode");
            assertEquals(((Number) result.snapshot().metadata().get("pageCount")).longValue(), facts.pageCount());
            assertEquals(rows, ((Number) facts.rowCounts().get("items")).intValue());
        }
    }

    @Test
    void secondBackup_afterChangingOnePercentOfRows_storesAtMostTenPercentOfTheFirst() throws Exception {
        Path db = dir.resolve("dedup.db");
        int rows = rowsFor(Math.min(mib(), 100));
        SqliteTestData.create(db, true, rows, ROW_BYTES, 2);
        try (Repository repo = repository()) {
            BackupResult first = BackupManager.builder().repository(repo).source(SqliteSource.builder().path(db).build()).build().backup();
            SqliteTestData.changeRandomRows(db, rows, rows / 100, ROW_BYTES, 3);
            String changed = SqliteTestData.contentDigest(db);
            BackupResult second = BackupManager.builder().repository(repo).source(SqliteSource.builder().path(db).build()).build().backup();
            double share = (double) second.bytesStored() / first.bytesStored();
            System.out.printf("sqlite dedup: first %d bytes stored, second after 1%% random rows changed %d bytes (%.1f%%)%n",
                    first.bytesStored(), second.bytesStored(), share * 100);
            assertTrue(share <= 0.10, "second backup stored " + second.bytesStored() + " of " + first.bytesStored());

            Path restored = dir.resolve("dedup-restored.db");
            RestoreManager.builder().repository(repo).snapshot(second.snapshotId()).target(SqliteTarget.builder().path(restored).build())
                    .build().restore();
            assertEquals(changed, SqliteTestData.contentDigest(restored));

            Files.createDirectories(dir.resolve("scratch"));
            VerificationReport report = Verifier.builder().repository(repo).snapshot(second.snapshotId())
                    .level(VerificationLevel.COMPREHENSIVE).scratchTarget(SqliteTarget.builder().path(dir.resolve("scratch")).build())
                    .build().verify();
            assertTrue(report.passed(), report.toString());
            assertTrue(report.checks().stream().anyMatch(c -> c.name().equals("PRAGMA integrity_check") && !c.failed()), report.toString());
            try (var files = Files.list(dir.resolve("scratch"))) {
                assertEquals(List.of(), files.toList(), "verification leaves nothing behind");
            }
        }
    }

    /** Format 2's stream digest of a stream cut in fixed blocks: SHA-256 over each block's SHA-256, in order. */
    static String sha256OverBlocks(Path file, int block) throws Exception {
        MessageDigest overall = MessageDigest.getInstance("SHA-256");
        MessageDigest each = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[block];
            int n;
            while ((n = in.readNBytes(b, 0, block)) > 0) {
                each.update(b, 0, n);
                overall.update(each.digest());
            }
        }
        return HexFormat.of().formatHex(overall.digest());
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = in.read(b)) > 0) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

}
