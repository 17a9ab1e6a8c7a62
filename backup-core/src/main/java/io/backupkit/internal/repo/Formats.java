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
    public static final String RECORDS = "records/";

    public static final byte[] AD_CONFIG = ad("backupkit v1 config");
    public static final byte[] AD_INDEX = ad("backupkit v1 index");
    public static final byte[] AD_SNAPSHOT = ad("backupkit v1 snapshot");
    public static final byte[] AD_PACK_TRAILER = ad("backupkit v1 pack trailer");
    public static final byte[] AD_LOCK = ad("backupkit v1 lock");
    /** Followed by the record's name (without {@link #RECORDS}): a record cannot be moved to another name. */
    public static final String AD_RECORD_PREFIX = "backupkit v1 record ";
    /** Log objects bind their full storage name after this label (and a 0 byte). */
    public static final byte[] AD_LOG_HEADER = ad("backupkit v1 log header");
    public static final byte[] AD_LOG_PIECE = ad("backupkit v1 log piece");

    public static final byte[] CONFIG_MAGIC = ad("BKC1");
    public static final byte[] PACK_MAGIC = ad("BKP1");
    public static final byte[] INDEX_MAGIC = ad("BKI1");
    public static final byte[] LOG_MAGIC = ad("BKL1");

    /**
     * {@code version} in the sealed config JSON that new repositories get. Version 2: each chunk is
     * hashed once (blob id = HMAC of the chunk's SHA-256; a stream's digest over its chunks' SHA-256).
     * Version 1 (blob id = HMAC of the plaintext; a stream's SHA-256 over its whole plaintext) is still
     * read and written, each repository under its own rules.
     */
    public static final int CONFIG_VERSION = 2;
    /** The oldest config version this code reads (and writes into). */
    public static final int CONFIG_VERSION_MIN = 1;
    /** {@code version} of a key slot's JSON. */
    public static final int KEY_SLOT_VERSION = 1;
    /** {@code version} of a snapshot manifest's JSON written now (2: blob ids in list blobs); version 1 is still read. */
    public static final int MANIFEST_VERSION = 2;

    /**
     * Largest chunk (blob plaintext) the format allows; the builder caps the chunker's maximum here.
     * Decoders refuse larger recorded lengths, so a damaged length field cannot make them allocate more.
     */
    public static final int MAX_CHUNK = 16 * 1024 * 1024;
    /**
     * Largest stored (sealed) blob: codec byte, at most the chunk itself (a chunk that does not compress
     * is stored with codec 0) and the seal's overhead, with room for any sealer.
     */
    public static final int MAX_SEALED_BLOB = MAX_CHUNK + 1 + 64;

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

    /**
     * Checks a 4-byte magic at {@code in[off]}; the error names the object, the magic found and the one
     * this code reads (for example {@code index/ab12…: index magic is "BKI7", this backupkit reads "BKI1"}).
     */
    static void checkMagic(String name, String what, byte[] in, int off, byte[] expected) {
        if (in.length < off + 4) {
            throw new IntegrityException(name, what + " is truncated: " + in.length + " bytes, no room for its magic \""
                    + ascii(expected) + "\"");
        }
        for (int i = 0; i < 4; i++) {
            if (in[off + i] != expected[i]) {
                throw new IntegrityException(name, what + " magic is \"" + printable(in, off, 4) + "\", this backupkit reads \""
                        + ascii(expected) + "\" (" + what + " format 1); the object is damaged or from another program");
            }
        }
    }

    private static String ascii(byte[] b) {
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** Bytes as ASCII where printable, {@code \xNN} otherwise, so a message never carries control characters. */
    static String printable(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = off; i < off + len && i < b.length; i++) {
            int c = b[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    /** Checks a JSON object's {@code version} against the one this code reads. */
    static void checkVersion(String name, String what, int found, int supported) {
        if (found != supported) {
            throw new io.backupkit.ConfigurationException(name + ": " + what + " version " + found
                    + " is not supported by this backupkit (it reads version " + supported + ")"
                    + (found > supported ? "; upgrade backupkit to read it" : "; the object is damaged or from another program"));
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
