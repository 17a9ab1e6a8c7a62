package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The data-other stream (large objects and the rows of extension configuration tables) now that
 * table data is COPYed: rows a user added to an extension's configuration table, and the
 * extension's configuration sequence, come back exactly once, next to the rows the extension
 * creates itself. Installs a tiny extension into the server's share directory (skipped when that
 * is not writable).
 */
class PostgresExtensionDataIT {
    static final String EXT = "backupkit_test_config";
    static EphemeralPostgres pg;
    static Path extensionDir;

    @BeforeAll
    static void start() throws IOException {
        pg = EphemeralPostgres.start();
        extensionDir = Path.of(pg.queryForString("postgres", "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'"), "extension");
        assumeTrue(Files.isWritable(extensionDir), "the share directory " + extensionDir + " is not writable");
        Files.writeString(extensionDir.resolve(EXT + ".control"), "comment = 'backupkit test: a configuration table'\n"
                + "default_version = '1.0'\nrelocatable = false\nschema = public\n");
        Files.writeString(extensionDir.resolve(EXT + "--1.0.sql"), """
                CREATE TABLE bk_settings (k text PRIMARY KEY, v text, builtin boolean NOT NULL DEFAULT false);
                SELECT pg_catalog.pg_extension_config_dump('bk_settings', 'WHERE NOT builtin');
                CREATE SEQUENCE bk_settings_seq;
                SELECT pg_catalog.pg_extension_config_dump('bk_settings_seq', '');
                INSERT INTO bk_settings VALUES ('shipped-default', 'x', true);
                """);
    }

    @AfterAll
    static void stop() throws IOException {
        if (extensionDir != null) {
            Files.deleteIfExists(extensionDir.resolve(EXT + ".control"));
            Files.deleteIfExists(extensionDir.resolve(EXT + "--1.0.sql"));
        }
        pg.close();
    }

    @Test
    void extensionConfigurationRows_andLargeObjects_roundTripExactlyOnce() {
        pg.createDatabase("ext");
        pg.execute("ext", "CREATE EXTENSION " + EXT + "; "
                + "INSERT INTO bk_settings (k, v) VALUES ('mine', 'user value'), ('also mine', 'ü ✓'); "
                + "SELECT setval('bk_settings_seq', 77); "
                + "CREATE TABLE docs (id int PRIMARY KEY, body oid); "
                + "INSERT INTO docs VALUES (1, lo_from_bytea(0, 'large object body'::bytea))");
        InMemoryBackup ctx = new InMemoryBackup(2);
        PostgresSource source = source(pg, "ext");
        source.backup(ctx);
        Snapshot snapshot = ctx.snapshot(source);
        target(pg, "ext_copy").build().restore(ctx.restoreContext(snapshot, 2));

        String rows = "SELECT string_agg(k || '=' || v || ':' || builtin, ', ' ORDER BY k) FROM bk_settings";
        assertEquals("also mine=ü ✓:false, mine=user value:false, shipped-default=x:true", pg.queryForString("ext_copy", rows));
        assertEquals(pg.queryForString("ext", rows), pg.queryForString("ext_copy", rows));
        assertEquals("77", pg.queryForString("ext_copy", "SELECT last_value FROM bk_settings_seq"));
        assertEquals(DbDigest.largeObjects(pg, "ext"), DbDigest.largeObjects(pg, "ext_copy"));
        assertEquals(1, DbDigest.largeObjects(pg, "ext_copy").size());
        assertEquals(DbDigest.tables(pg, "ext").get("public.docs"), DbDigest.tables(pg, "ext_copy").get("public.docs"));
        List<?> tables = (List<?>) snapshot.metadata().get("tables");
        assertTrue(tables.stream().noneMatch(t -> ((java.util.Map<?, ?>) t).get("name").equals("public.bk_settings")),
                "an extension's table is not copied as a user table: " + tables);
        pg.dropDatabase("ext_copy");
        pg.dropDatabase("ext");
    }
}
