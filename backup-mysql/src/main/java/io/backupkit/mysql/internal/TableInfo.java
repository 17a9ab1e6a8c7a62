package io.backupkit.mysql.internal;

import java.util.List;

/**
 * A table whose rows a backup dumps.
 *
 * @param database       its database
 * @param name           its name
 * @param engine         storage engine (InnoDB, MyISAM, Aria, …)
 * @param transactional  whether the engine is transactional (its rows come from the consistent snapshot)
 * @param columns        every column, generated ones included (flagged)
 * @param primaryKey     primary key columns in key order (empty: no primary key)
 * @param estimatedBytes data length from information_schema (for scheduling; may be far off)
 */
public record TableInfo(String database, String name, String engine, boolean transactional, List<ColumnInfo> columns,
                        List<String> primaryKey, long estimatedBytes) {

    public TableInfo {
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
    }

    /** The columns a data stream carries, in order. */
    public List<ColumnInfo> dumpedColumns() {
        return columns.stream().filter(c -> !c.generated()).toList();
    }

    /** "shop.orders" (for messages). */
    public String qualifiedName() {
        return database + "." + name;
    }
}
