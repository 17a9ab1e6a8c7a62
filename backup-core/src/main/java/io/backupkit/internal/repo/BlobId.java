package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Hashes;

import java.util.Arrays;

/** 32-byte blob id: HMAC-SHA256 of the plaintext (SHA-256 in unencrypted repositories). */
public final class BlobId {
    public static final int BYTES = 32;
    private final byte[] id;
    private final int hash;

    private BlobId(byte[] id) {
        if (id.length != BYTES) {
            throw new IllegalArgumentException("blob id must have 32 bytes, has " + id.length);
        }
        this.id = id;
        this.hash = Arrays.hashCode(id);
    }

    public static BlobId of(byte[] id) {
        return new BlobId(id.clone());
    }

    public static BlobId of(byte[] buf, int off) {
        return new BlobId(Arrays.copyOfRange(buf, off, off + BYTES));
    }

    public static BlobId parse(String hex) {
        return new BlobId(Hashes.unhex(hex));
    }

    public byte[] bytes() {
        return id.clone();
    }

    /** The id's own array, not a copy: for lookups inside this package only. */
    byte[] raw() {
        return id;
    }

    void writeTo(byte[] buf, int off) {
        System.arraycopy(id, 0, buf, off, BYTES);
    }

    public String hex() {
        return Hashes.hex(id);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlobId b && Arrays.equals(id, b.id);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return hex().substring(0, 12);
    }
}
