package io.backupkit.postgres.internal;

import java.nio.file.Path;
import java.util.List;

/** What a PostgresTarget was told to do. */
public record RestoreOptions(String database, List<String> tables, boolean schemaOnly, boolean dataOnly, boolean dropExisting,
                             boolean noOwner, boolean noPrivileges, Path toolDirectory, String maintenanceDatabase,
                             boolean terminateSessions, boolean restoreGlobals, String owner) {
    public RestoreOptions {
        tables = List.copyOf(tables);
    }

    public RestoreOptions(String database, List<String> tables, boolean schemaOnly, boolean dataOnly, boolean dropExisting,
                          boolean noOwner, boolean noPrivileges, Path toolDirectory, String maintenanceDatabase) {
        this(database, tables, schemaOnly, dataOnly, dropExisting, noOwner, noPrivileges, toolDirectory, maintenanceDatabase, false, false,
                null);
    }

    /** The same restore into another (new) database: never drops, never touches globals. */
    public RestoreOptions withDatabase(String db) {
        return new RestoreOptions(db, tables, schemaOnly, dataOnly, false, noOwner, noPrivileges, toolDirectory, maintenanceDatabase,
                false, false, owner);
    }

    /** The whole snapshot: no table selection, schema and data. */
    public RestoreOptions full() {
        return new RestoreOptions(database, List.of(), false, false, dropExisting, noOwner, noPrivileges, toolDirectory, maintenanceDatabase,
                terminateSessions, restoreGlobals, owner);
    }
}
