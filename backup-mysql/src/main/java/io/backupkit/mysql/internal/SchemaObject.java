package io.backupkit.mysql.internal;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One object of a database's schema as the schema stream records it, with the session settings it
 * was created under (routines, triggers, events and views keep their sql_mode and collation).
 *
 * @param kind                what it is
 * @param name                its name
 * @param table               for a trigger: its table; else null
 * @param sql                 the statement that creates it (SHOW CREATE …, names unqualified)
 * @param sqlMode             the sql_mode it was created with, or null for the restore session's
 * @param characterSetClient  character_set_client it was created with (informational: statements are sent as UTF-8)
 * @param collationConnection collation_connection it was created with (string literals in its body use it)
 * @param extra               kind-specific: a sequence's SETVAL statement, a trigger's action order
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SchemaObject(Kind kind, String name, String table, String sql, String sqlMode, String characterSetClient,
                           String collationConnection, String extra) {

    /** Object kinds in the order a restore creates them. */
    public enum Kind {
        DATABASE, SEQUENCE, TABLE, VIEW, FUNCTION, PROCEDURE, TRIGGER, EVENT;

        /** "procedure" */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public static SchemaObject of(Kind kind, String name, String sql) {
        return new SchemaObject(kind, name, null, sql, null, null, null, null);
    }
}
