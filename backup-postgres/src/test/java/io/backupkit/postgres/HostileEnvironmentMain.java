package io.backupkit.postgres;

import io.backupkit.Snapshot;

/**
 * Backs up one database and restores it into another, in a JVM started with hostile libpq
 * variables in its environment (PGOPTIONS, PGSSLMODE, PGCLIENTENCODING, …). Exit code 0 when
 * both worked. Used by {@link PostgresCleanEnvironmentIT}.
 *
 * <p>Arguments: JDBC URL of the source database, libpq URI of the server, target database name,
 * user. The password comes from {@code BACKUPKIT_TEST_DB_PASSWORD}.
 */
public final class HostileEnvironmentMain {
    private HostileEnvironmentMain() {
    }

    public static void main(String[] args) {
        char[] password = System.getenv("BACKUPKIT_TEST_DB_PASSWORD").toCharArray();
        try {
            InMemoryBackup ctx = new InMemoryBackup(2);
            PostgresSource source = PostgresSource.builder().url(args[0]).user(args[3]).password(password).build();
            source.backup(ctx);
            Snapshot snapshot = ctx.snapshot(source);
            PostgresTarget.builder().url(args[1]).user(args[3]).password(password).database(args[2]).build()
                    .restore(ctx.restoreContext(snapshot, 2));
            System.out.println("round trip done");
            System.exit(0);
        } catch (RuntimeException e) {
            e.printStackTrace();
            System.exit(1);
        }
    }
}
