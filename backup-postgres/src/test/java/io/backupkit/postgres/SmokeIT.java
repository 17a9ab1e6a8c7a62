package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeIT {
    @Test
    void smoke() {
        try (EphemeralPostgres pg = EphemeralPostgres.start()) {
            pg.createDatabase("src");
            pg.runTool("pgbench", "-i", "-s", "1", "-q", "src");
            pg.execute("src", "SELECT lo_from_bytea(0, 'hello'::bytea)");
            PostgresSource source = PostgresSource.builder().url(pg.jdbcUrl("src")).user(pg.user()).password(pg.password().toCharArray()).build();
            InMemoryBackup ctx = new InMemoryBackup(2);
            source.backup(ctx);
            Snapshot s = ctx.snapshot(source);
            System.out.println(s.streams());
            System.out.println(s.metadata());
            PostgresTarget target = PostgresTarget.builder().url(pg.uri("postgres")).user(pg.user()).password(pg.password().toCharArray())
                    .database("dst").build();
            System.out.println(target.plan(ctx.restoreContext(s, 2)));
            target.restore(ctx.restoreContext(s, 2));
            assertEquals(DbDigest.tables(pg, "src"), DbDigest.tables(pg, "dst"));
            assertEquals(DbDigest.sequences(pg, "src"), DbDigest.sequences(pg, "dst"));
            assertEquals(DbDigest.largeObjects(pg, "src"), DbDigest.largeObjects(pg, "dst"));
            System.out.println(target.verifyByRestore(ctx.restoreContext(s, 2)));
        }
    }
}
