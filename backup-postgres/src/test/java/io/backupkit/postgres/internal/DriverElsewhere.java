package io.backupkit.postgres.internal;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.PostgresTarget;

import java.io.ByteArrayOutputStream;

/**
 * What {@code PostgresDriverInAnotherClassLoaderIT} runs in a class loader of backupkit's own, whose parent holds
 * pgjdbc and cannot see backupkit's classes: called by reflection, it takes and returns only JDK types.
 */
public final class DriverElsewhere {
    private DriverElsewhere() {
    }

    /** One COPY through {@link JdbcCopy#open}: {bulk (Boolean), rows (Long), bytes (byte[])}. */
    public static Object[] copy(String url, String user, String password, String sql) throws Exception {
        PgConnectionConfig cfg = PgConnectionConfig.of(url, user, password.toCharArray(), "disable", null);
        try (JdbcCopy session = JdbcCopy.open(cfg, "driver elsewhere")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long rows = session.copyOut(sql, out);
            return new Object[]{session.bulk(), rows, out.toByteArray()};
        }
    }

    /**
     * A backup of {@code sourceUrl} into a new repository in {@code repository}, restored into database {@code target};
     * returns how many of the backup's COPY sessions pgjdbc opened without this class loader's socket factory.
     */
    public static long backupAndRestore(String sourceUrl, String serverUrl, String user, String password, String repository, String target) {
        long before = JdbcCopy.FACTORY_NOT_LOADED.get();
        long rowByRow;
        try (Repository repo = Repository.builder().location(repository).password("elsewhere".toCharArray()).create()) {
            PostgresSource source = PostgresSource.builder().url(sourceUrl).user(user).password(password.toCharArray()).build();
            String snapshot = BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup().snapshot().id();
            rowByRow = JdbcCopy.FACTORY_NOT_LOADED.get() - before;
            PostgresTarget into = PostgresTarget.builder().url(serverUrl).user(user).password(password.toCharArray()).database(target).build();
            RestoreManager.builder().repository(repo).snapshot(snapshot).target(into).parallelism(2).build().restore();
        }
        return rowByRow;
    }
}
