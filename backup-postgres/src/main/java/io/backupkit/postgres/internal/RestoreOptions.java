package io.backupkit.postgres.internal;

import java.nio.file.Path;
import java.util.List;

/** What a PostgresTarget was told to do. */
public record RestoreOptions(String database, List<String> tables, boolean schemaOnly, boolean dataOnly, boolean dropExisting,
                             boolean noOwner, boolean noPrivileges, Path toolDirectory, String maintenanceDatabase) {
    public RestoreOptions {
        tables = List.copyOf(tables);
    }

    public RestoreOptions withDatabase(String db) {
        return new RestoreOptions(db, tables, schemaOnly, dataOnly, false, noOwner, noPrivileges, toolDirectory, maintenanceDatabase);
    }

    public RestoreOptions full() {
        return new RestoreOptions(database, List.of(), false, false, dropExisting, noOwner, noPrivileges, toolDirectory, maintenanceDatabase);
    }
}
