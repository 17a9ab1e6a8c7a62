package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;

import static io.backupkit.postgres.PgTestSupport.source;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Database-level properties and the cluster's roles (issue 9, item 14 and acceptance 4): a
 * {@code REVOKE CONNECT … FROM PUBLIC}, grants, owner, comment, connection limit and settings come
 * back exactly; roles travel in their own stream and are restored only when asked.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresDatabasePropertiesIT {
    static EphemeralPostgres pg;
    /** A second cluster that has none of the source's roles. */
    static EphemeralPostgres bare;
    static InMemoryBackup backup;
    static Snapshot snapshot;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        bare = EphemeralPostgres.start();
        pg.execute("postgres", """
                CREATE ROLE app_owner LOGIN PASSWORD 'owner-secret-1';
                CREATE ROLE app_user LOGIN PASSWORD 'user-secret-2';
                CREATE ROLE auditors;
                GRANT auditors TO app_user;
                ALTER ROLE app_user SET statement_timeout = '5s';
                """);
        pg.execute("postgres", "CREATE DATABASE crm OWNER app_owner CONNECTION LIMIT 42");
        pg.execute("postgres", """
                REVOKE CONNECT, TEMPORARY ON DATABASE crm FROM PUBLIC;
                GRANT CONNECT ON DATABASE crm TO app_user;
                GRANT CREATE ON DATABASE crm TO auditors WITH GRANT OPTION;
                COMMENT ON DATABASE crm IS 'customer data: ask the CRM team';
                ALTER DATABASE crm SET work_mem = '24MB';
                ALTER ROLE app_user IN DATABASE crm SET search_path = crm, public;
                """);
        pg.execute("crm", """
                CREATE SCHEMA crm AUTHORIZATION app_owner;
                CREATE TABLE crm.contacts (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL);
                ALTER TABLE crm.contacts OWNER TO app_owner;
                GRANT SELECT ON crm.contacts TO app_user;
                INSERT INTO crm.contacts (name) SELECT 'c' || i FROM generate_series(1, 100) i;
                """);
        backup = new InMemoryBackup(2);
        PostgresSource source = source(pg, "crm");
        source.backup(backup);
        snapshot = backup.snapshot(source);
    }

    @AfterAll
    static void stop() {
        pg.close();
        bare.close();
    }

    private static PostgresTarget.Builder target(EphemeralPostgres server, String db) {
        return PgTestSupport.target(server, db);
    }

    /** Grants on a database as sorted "grantee:privilege:grantable" lines (PUBLIC as "PUBLIC"). */
    private static List<String> grants(EphemeralPostgres server, String db) {
        return server.query("postgres", "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ':' "
                + "|| a.privilege_type || ':' || a.is_grantable FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = '" + db
                + "' ORDER BY 1").stream().map(r -> r.get(0)).toList();
    }

    private static String properties(EphemeralPostgres server, String db) {
        return server.queryForString("postgres", "SELECT pg_get_userbyid(datdba) || '|' || datconnlimit || '|' "
                + "|| coalesce(shobj_description(oid, 'pg_database'), '<none>') FROM pg_database WHERE datname = '" + db + "'");
    }

    private static List<String> settings(EphemeralPostgres server, String db) {
        return server.query("postgres", "SELECT coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*') || ' ' || unnest(s.setconfig) "
                + "FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = '" + db + "' ORDER BY 1")
                .stream().map(r -> r.get(0)).toList();
    }

    @Test
    void revokeConnect_grants_owner_comment_andSettings_roundTripExactly() {
        target(pg, "crm_copy").build().restore(backup.restoreContext(snapshot, 2));

        assertFalse(grants(pg, "crm").contains("PUBLIC:CONNECT:false"), grants(pg, "crm").toString());
        assertEquals(grants(pg, "crm"), grants(pg, "crm_copy"));
        assertEquals("app_owner|42|customer data: ask the CRM team", properties(pg, "crm_copy"));
        assertEquals(settings(pg, "crm"), settings(pg, "crm_copy"));
        assertEquals(List.of("* work_mem=24MB", "app_user search_path=crm, public"), settings(pg, "crm_copy"));
        assertEquals("false", pg.queryForString("postgres", "SELECT has_database_privilege('public', 'crm_copy', 'CONNECT')::text"));
        assertEquals(DbDigest.tables(pg, "crm"), DbDigest.tables(pg, "crm_copy"));
        assertEquals(DbDigest.sequences(pg, "crm"), DbDigest.sequences(pg, "crm_copy"));
        assertEquals("app_owner", pg.queryForString("crm_copy", "SELECT tableowner FROM pg_tables WHERE tablename = 'contacts'"));
        pg.dropDatabase("crm_copy");
    }

    @Test
    @Order(1)
    void missingRoles_areRefusedBeforeAnythingIsCreated_namingRolesAndSwitches() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> target(bare, "crm").build().restore(backup.restoreContext(snapshot, 2)));
        assertTrue(e.getMessage().contains("app_owner (owns objects, owns the database)"), e.getMessage());
        assertTrue(e.getMessage().contains("app_user"), e.getMessage());
        assertTrue(e.getMessage().contains("auditors"), e.getMessage());
        assertTrue(e.getMessage().contains("restoreGlobals()") && e.getMessage().contains("--restore-globals"), e.getMessage());
        assertTrue(e.getMessage().contains("noOwner()") && e.getMessage().contains("owner(role)"), e.getMessage());
        assertFalse(bare.databaseExists("crm"));
    }

    @Test
    @Order(2)
    void withoutOwnersAndGrants_theDataStillRestoresOnABareServer() {
        target(bare, "crm_plain").noOwner().noPrivileges().build().restore(backup.restoreContext(snapshot, 2));
        assertEquals(DbDigest.tables(pg, "crm"), DbDigest.tables(bare, "crm_plain"));
        assertEquals(bare.user() + "|42|customer data: ask the CRM team", properties(bare, "crm_plain"));
        assertEquals(List.of(), grants(bare, "crm_plain"), "default privileges: no explicit grants");
        bare.dropDatabase("crm_plain");
    }

    @Test
    void anotherOwner_ownsTheDatabaseAndItsObjects() {
        pg.execute("postgres", "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'new_owner') THEN "
                + "CREATE ROLE new_owner; END IF; END$$");
        target(pg, "crm_moved").owner("new_owner").build().restore(backup.restoreContext(snapshot, 2));
        assertTrue(properties(pg, "crm_moved").startsWith("new_owner|42|"), properties(pg, "crm_moved"));
        assertEquals("new_owner", pg.queryForString("crm_moved", "SELECT tableowner FROM pg_tables WHERE tablename = 'contacts'"));
        // the source owner's own grants follow the database to its new owner
        assertTrue(grants(pg, "crm_moved").contains("new_owner:CONNECT:false"), grants(pg, "crm_moved").toString());
        assertFalse(grants(pg, "crm_moved").contains("PUBLIC:CONNECT:false"));
        assertEquals(DbDigest.tables(pg, "crm"), DbDigest.tables(pg, "crm_moved"));
        pg.dropDatabase("crm_moved");
    }

    /** Last: it creates the source's roles on the bare server. */
    @Test
    @Order(10)
    void restoreGlobals_bringsTheRolesWithoutPasswords_thenEverythingRoundTrips() {
        assertTrue(snapshot.stream("globals").isPresent(), snapshot.streams().toString());
        String globals = new String(backup.data("globals"), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(globals.contains("CREATE ROLE app_user"), globals);
        assertFalse(globals.contains("SCRAM-SHA-256") || globals.contains("PASSWORD"), "no password hashes unless asked: " + globals);

        target(bare, "crm").restoreGlobals().build().restore(backup.restoreContext(snapshot, 2));

        assertEquals(grants(pg, "crm"), grants(bare, "crm"));
        assertEquals(properties(pg, "crm"), properties(bare, "crm"));
        assertEquals(settings(pg, "crm"), settings(bare, "crm"));
        assertEquals(DbDigest.tables(pg, "crm"), DbDigest.tables(bare, "crm"));
        assertEquals("true", bare.queryForString("postgres", "SELECT pg_has_role('app_user', 'auditors', 'MEMBER')::text"));
        assertEquals("{statement_timeout=5s}", bare.queryForString("postgres",
                "SELECT setconfig::text FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = 'app_user'::regrole"));
        assertNull(bare.queryForString("postgres", "SELECT rolpassword FROM pg_authid WHERE rolname = 'app_user'"));
        // a second time: the roles exist now, which is fine
        target(bare, "crm2").restoreGlobals().build().restore(backup.restoreContext(snapshot, 2));
        bare.dropDatabase("crm2");
        bare.dropDatabase("crm");
    }

    /**
     * A role that exists on the target keeps its attributes, password, settings, comment and memberships
     * (the snapshot's ALTER ROLE, SET and GRANT for it are left out); roles the target lacks are created.
     * Runs after {@link #restoreGlobals_bringsTheRolesWithoutPasswords_thenEverythingRoundTrips}, which left
     * the source's roles on the bare server.
     */
    @Test
    @Order(11)
    void restoreGlobals_keepsRolesThatExistOnTheTarget_asTheyAre() {
        bare.execute("postgres", """
                ALTER ROLE app_user NOLOGIN CONNECTION LIMIT 3 PASSWORD 'target-own-secret';
                ALTER ROLE app_user SET statement_timeout = '9s';
                COMMENT ON ROLE app_user IS 'managed on the target';
                DROP ROLE auditors;
                """);
        String role = "SELECT rolcanlogin || '|' || rolconnlimit || '|' || md5(coalesce(rolpassword, '')) || '|' "
                + "|| coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_authid WHERE rolname = 'app_user'";
        String setting = "SELECT setconfig::text FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = 'app_user'::regrole";
        String before = bare.queryForString("postgres", role);
        assertTrue(before.startsWith("false|3|"), before);

        target(bare, "crm_keep").restoreGlobals().build().restore(backup.restoreContext(snapshot, 2));

        assertEquals(before, bare.queryForString("postgres", role), "attributes, password and comment of the existing role");
        assertEquals("{statement_timeout=9s}", bare.queryForString("postgres", setting));
        assertEquals("1", bare.queryForString("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'auditors'"),
                "a role the target lacked is created");
        assertEquals("false", bare.queryForString("postgres", "SELECT pg_has_role('app_user', 'auditors', 'MEMBER')::text"),
                "no membership is granted to a role that existed");
        assertEquals(DbDigest.tables(pg, "crm"), DbDigest.tables(bare, "crm_keep"));
        bare.dropDatabase("crm_keep");
    }

    @Test
    void rolePasswords_travelOnlyWhenAsked() {
        InMemoryBackup withPw = new InMemoryBackup(2);
        PostgresSource source = PostgresSource.builder().url(pg.jdbcUrl("crm")).user(pg.user()).password(pg.password().toCharArray())
                .rolePasswords(true).build();
        source.backup(withPw);
        String globals = new String(withPw.data("globals"), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(globals.contains("PASSWORD 'SCRAM-SHA-256$"), "hashes only, never the clear text");
        assertFalse(globals.contains("owner-secret-1") || globals.contains("user-secret-2"));

        InMemoryBackup none = new InMemoryBackup(2);
        PostgresSource.builder().url(pg.jdbcUrl("crm")).user(pg.user()).password(pg.password().toCharArray()).globals(false).build()
                .backup(none);
        Snapshot s = none.snapshot(source);
        assertTrue(s.stream("globals").isEmpty());
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> target(bare, "crm_noglobals").restoreGlobals().build().restore(none.restoreContext(s, 2)));
        assertTrue(e.getMessage().contains("has no globals"), e.getMessage());
        assertFalse(bare.databaseExists("crm_noglobals"));
    }
}
