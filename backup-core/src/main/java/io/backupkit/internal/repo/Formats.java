package io.backupkit.internal.repo;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Hashes;

import java.nio.charset.StandardCharsets;

/** Object names, associated-data labels and small checks of repository format v1. */
public final class Formats {
    public static final String CONFIG = "config";
    public static final String KEYS = "keys/";
    public static final String DATA = "data/";
    public static final String INDEX = "index/";
    /** Prune's state objects (superseded indexes, obsolete and deleted packs), inside {@link #INDEX}. */
    public static final String INDEX_STATE = "index/state/";
    public static final String SNAPSHOTS = "snapshots/";
    public static final String LOCKS = "locks/";
    public static final String WAL = "wal/";

    public static final byte[] AD_CONFIG = ad("backupkit v1 config");
    public static final byte[] AD_INDEX = ad("backupkit v1 index");
    public static final byte[] AD_SNAPSHOT = ad("backupkit v1 snapshot");
    public static final byte[] AD_PACK_TRAILER = ad("backupkit v1 pack trailer");
    public static final byte[] AD_LOCK = ad("backupkit v1 lock");

    public static final byte[] CONFIG_MAGIC = ad("BKC1");
    public static final byte[] PACK_MAGIC = ad("BKP1");
    public static final byte[] INDEX_MAGIC = ad("BKI1");

    private Formats() {
    }

    private static byte[] ad(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    public static String packName(String idHex) {
        return DATA + idHex.substring(0, 2) + "/" + idHex;
    }

    /** The id part of a content-addressed object name ("index/ab12…" → "ab12…"). */
    public static String idOf(String name) {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    /** Objects named by the SHA-256 of their content: a flipped byte anywhere is caught here. */
    public static void checkContentHash(String name, byte[] content) {
        String expected = idOf(name);
        String actual = Hashes.sha256Hex(content);
        if (!actual.equals(expected)) {
            throw new IntegrityException(name, "content does not match its name (SHA-256 " + actual.substring(0, 16)
                    + "…); the object is damaged");
        }
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    static void putLong(byte[] b, int off, long v) {
        putInt(b, off, (int) (v >>> 32));
        putInt(b, off + 4, (int) v);
    }

    static long getLong(byte[] b, int off) {
        return ((long) getInt(b, off) << 32) | (getInt(b, off + 4) & 0xffffffffL);
    }
}
