package io.backupkit.s3;

import java.util.Locale;

/**
 * What a repository object is, read from the first segment of its name. S3 settings that differ by
 * kind (storage class, object lock) are chosen per kind: packs ({@code data/…}) are large, written
 * once and read rarely, so they may go to a cheaper class; the small objects every command reads stay
 * in STANDARD.
 *
 * <pre>{@code
 * ObjectKind.of("data/3f/3fa2…") == ObjectKind.DATA
 * }</pre>
 */
public enum ObjectKind {
    /** {@code config}: format version, repository id, parameters. */
    CONFIG,
    /** {@code keys/<id>}: key slots. */
    KEYS,
    /** {@code data/<xx>/<pack>}: pack files, the bulk of a repository. */
    DATA,
    /** {@code index/<id>}: blob indexes. */
    INDEX,
    /** {@code snapshots/<id>}: snapshot manifests. */
    SNAPSHOTS,
    /** {@code locks/<id>}: repository locks, short-lived and deleted again. */
    LOCKS,
    /** {@code wal/<timeline>/<segment>}: archived PostgreSQL WAL segments. */
    WAL,
    /** Anything else. */
    OTHER;

    /** The kind of the object called {@code name} (relative to the repository root). */
    public static ObjectKind of(String name) {
        int slash = name.indexOf('/');
        String first = slash < 0 ? name : name.substring(0, slash);
        switch (first) {
            case "config":
                return slash < 0 ? CONFIG : OTHER;
            case "keys":
                return KEYS;
            case "data":
                return DATA;
            case "index":
                return INDEX;
            case "snapshots":
                return SNAPSHOTS;
            case "locks":
                return LOCKS;
            case "wal":
                return WAL;
            default:
                return OTHER;
        }
    }

    /** Parses a kind name as used in URIs ({@code data}, {@code snapshots}, …), case-insensitive. */
    public static ObjectKind parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
}
