package io.backupkit.sqlite;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.sqlite.testing.SqliteDatabaseExtension;
import io.backupkit.sqlite.testing.TemporarySqliteDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The published fixture as a user's test uses it: a database per test, deleted afterwards. */
@ExtendWith(SqliteDatabaseExtension.class)
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.MethodName.class)
class SqliteFixtureIT {
    static Path seen;

    @Test
    void aTemporaryDatabase_backsUpAndRestores(TemporarySqliteDatabase db) throws Exception {
        db.execute("CREATE TABLE t(x)", "INSERT INTO t VALUES (42)");
        seen = db.path();
        try (Repository repo = Repository.builder().location(db.sibling("repo").toString()).password("fixture".toCharArray()).create()) {
            String id = BackupManager.builder().repository(repo).source(new SqliteEngine().source(db.url(), java.util.Map.of()))
                    .build().backup().snapshotId();
            RestoreManager.builder().repository(repo).snapshot(id).target(SqliteTarget.builder().path(db.sibling("copy.db")).build())
                    .build().restore();
        }
        assertEquals(SqliteTestData.contentDigest(db.path()), SqliteTestData.contentDigest(db.sibling("copy.db")));
    }

    @Test
    void theDatabaseOfAnEarlierTest_isGone() {
        if (seen != null) {
            assertTrue(Files.notExists(seen.getParent()), seen + " was not deleted");
        }
    }
}
