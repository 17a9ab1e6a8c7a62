package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.PostgresTarget;

/**
 * The README's embedding example, compiled and run by {@code QuickStartIT}: back a database up,
 * verify the snapshot, restore it under a new name.
 *
 * <pre>
 * BACKUPKIT_PASSWORD=… PGPASSWORD=… java -cp backupkit.jar io.backupkit.examples.QuickStart \
 *     postgresql://backup@localhost:5432/shop /var/backups/shop postgresql://backup@localhost:5432/shop_copy
 * </pre>
 */
public final class QuickStart {
    private QuickStart() {
    }

    public static void main(String[] args) {
        String db = args[0], repoDir = args[1], copy = args[2];
        char[] dbPassword = System.getenv("PGPASSWORD").toCharArray();
        // README-START
        try (Repository repo = Repository.builder()
                .location(repoDir)                                          // or "s3://bucket/prefix"
                .password(System.getenv("BACKUPKIT_PASSWORD").toCharArray())
                .openOrCreate()) {
            BackupResult backup = BackupManager.builder().repository(repo)
                    .source(PostgresSource.builder().url(db).password(dbPassword).build())
                    .build().backup();
            VerificationReport report = Verifier.builder().repository(repo).snapshot(backup.snapshotId()).build().verify();
            RestoreManager.builder().repository(repo).snapshot(backup.snapshotId())
                    .target(PostgresTarget.builder().url(copy).password(dbPassword).build())
                    .build().restore();
            System.out.printf("snapshot %s: %d bytes read, %d stored, verified: %s%n",
                    backup.snapshot().shortId(), backup.bytesRead(), backup.bytesStored(), report.passed());
        }
        // README-END
    }
}
