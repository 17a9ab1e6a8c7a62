package io.backupkit;

/** How deeply {@link Verifier} checks a snapshot. */
public enum VerificationLevel {
    /** The manifest is readable and every blob it references is in an index and in a pack. */
    QUICK,
    /** QUICK, and every blob is read, decrypted and checked, and every stream's SHA-256 matches. */
    STANDARD,
    /** STANDARD, and the snapshot is restored into a scratch database and compared with its metadata. */
    COMPREHENSIVE
}
