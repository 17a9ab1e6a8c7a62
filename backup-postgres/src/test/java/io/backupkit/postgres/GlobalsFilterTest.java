package io.backupkit.postgres;

import io.backupkit.postgres.internal.GlobalsFilter;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a {@code --restore-globals} leaves out of pg_dumpall's script so existing roles stay as they are. */
class GlobalsFilterTest {
    static final String SCRIPT = """
            --
            -- PostgreSQL database cluster dump
            --

            \\restrict abc123

            SET default_transaction_read_only = off;
            SET standard_conforming_strings = on;

            CREATE ROLE app;
            ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$x';
            CREATE ROLE "Odd ""Name"";";
            ALTER ROLE "Odd ""Name"";" WITH LOGIN;
            COMMENT ON ROLE app IS 'two
            lines; with a semicolon';
            CREATE ROLE fresh;
            ALTER ROLE fresh WITH LOGIN;
            ALTER ROLE app SET search_path TO 'a', 'b';
            ALTER ROLE app IN DATABASE shop SET work_mem TO '8MB';
            SECURITY LABEL FOR selinux ON ROLE app IS 'x';
            GRANT fresh TO app GRANTED BY postgres;
            GRANT app TO fresh WITH INHERIT TRUE GRANTED BY postgres;
            CREATE TABLESPACE ts OWNER app LOCATION '/srv/ts';
            GRANT ALL ON TABLESPACE ts TO app;

            \\unrestrict abc123
            """;

    @Test
    void statementsChangingAnExistingRole_areLeftOut_everythingElseIsKept() {
        GlobalsFilter.Result r = GlobalsFilter.keepExistingRoles(SCRIPT, Set.of("app", "Odd \"Name\";", "postgres"));
        String out = r.script();
        assertEquals(Set.of("app", "Odd \"Name\";"), r.keptRoles());
        assertEquals(9, r.skippedStatements(), out);
        for (String gone : new String[] {"CREATE ROLE app;", "ALTER ROLE app WITH", "SCRAM", "COMMENT ON ROLE", "lines; with",
                "ALTER ROLE app SET", "IN DATABASE shop", "SECURITY LABEL", "GRANT fresh TO app", "\"Odd \"\"Name\"\";\" WITH"}) {
            assertFalse(out.contains(gone), gone + " is left out:\n" + out);
        }
        for (String kept : new String[] {"\\restrict abc123", "SET standard_conforming_strings = on;", "CREATE ROLE fresh;",
                "ALTER ROLE fresh WITH LOGIN;", "GRANT app TO fresh WITH INHERIT TRUE GRANTED BY postgres;",
                "CREATE TABLESPACE ts OWNER app LOCATION '/srv/ts';", "GRANT ALL ON TABLESPACE ts TO app;", "\\unrestrict abc123"}) {
            assertTrue(out.contains(kept), kept + " is kept:\n" + out);
        }
    }

    @Test
    void withNoExistingRole_theScriptIsUnchanged() {
        GlobalsFilter.Result r = GlobalsFilter.keepExistingRoles(SCRIPT, Set.of());
        assertEquals(SCRIPT, r.script());
        assertEquals(0, r.skippedStatements());
    }
}
