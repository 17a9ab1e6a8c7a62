package io.backupkit.mysql.internal;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A column as the data streams handle it.
 *
 * @param name      column name
 * @param dataType  information_schema.COLUMNS.DATA_TYPE ("int", "float", "point", …)
 * @param generated a generated (virtual or stored) column: never dumped, the server computes it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ColumnInfo(String name, String dataType, boolean generated) {

    /** How a column's value travels in a data stream. */
    public enum Encoding {
        /** The stored bytes, unconverted. */
        RAW,
        /** FLOAT: as its exact DOUBLE value (the text protocol prints only 6 digits of a FLOAT). */
        FLOAT_AS_DOUBLE,
        /** BIT: as an unsigned integer, loaded with CAST(… AS UNSIGNED). */
        BIT_AS_INTEGER,
        /** Spatial types: the internal bytes (SRID + WKB), loaded through a user variable. */
        GEOMETRY
    }

    public Encoding encoding() {
        return switch (dataType.toLowerCase(java.util.Locale.ROOT)) {
            case "float" -> Encoding.FLOAT_AS_DOUBLE;
            case "bit" -> Encoding.BIT_AS_INTEGER;
            case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
                 "geometrycollection", "geomcollection" -> Encoding.GEOMETRY;
            default -> Encoding.RAW;
        };
    }
}
