package io.backupkit.internal.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;

/**
 * Seals repository objects and blobs. Encrypted repositories use AES-256-GCM; unencrypted ones
 * append a truncated SHA-256 over associated data and content, so damage is still detected.
 */
public interface Sealer {

    byte[] seal(byte[] plain, int off, int len, byte[] ad);

    /** The plaintext, or empty when the box was changed (or, encrypted, the key is wrong). */
    Optional<byte[]> open(byte[] sealed, int off, int len, byte[] ad);

    /** Bytes added by {@link #seal}. */
    int overhead();

    /**
     * Seals {@code plain[off, off+len)} into {@code out} at {@code outOff} (room for {@code len +
     * overhead()} bytes, not overlapping the input); returns the bytes written. Saves the allocation of
     * {@link #seal(byte[], int, int, byte[])} where a buffer is reused.
     */
    default int seal(byte[] plain, int off, int len, byte[] ad, byte[] out, int outOff) {
        byte[] sealed = seal(plain, off, len, ad);
        System.arraycopy(sealed, 0, out, outOff, sealed.length);
        return sealed.length;
    }

    default byte[] seal(byte[] plain, byte[] ad) {
        return seal(plain, 0, plain.length, ad);
    }

    default Optional<byte[]> open(byte[] sealed, byte[] ad) {
        return open(sealed, 0, sealed.length, ad);
    }

    static Sealer aesGcm(byte[] key) {
        byte[] k = key.clone();
        return new Sealer() {
            public byte[] seal(byte[] plain, int off, int len, byte[] ad) {
                return Aead.seal(k, plain, off, len, ad);
            }

            public int seal(byte[] plain, int off, int len, byte[] ad, byte[] out, int outOff) {
                return Aead.seal(k, plain, off, len, ad, out, outOff);
            }

            public Optional<byte[]> open(byte[] sealed, int off, int len, byte[] ad) {
                return Aead.open(k, sealed, off, len, ad);
            }

            public int overhead() {
                return Aead.OVERHEAD;
            }
        };
    }

    static Sealer checksumOnly() {
        return new Sealer() {
            private static final int SUM = 16;

            private byte[] sum(byte[] data, int off, int len, byte[] ad) {
                try {
                    MessageDigest md = MessageDigest.getInstance("SHA-256");
                    if (ad != null) {
                        md.update(ad);
                    }
                    md.update(data, off, len);
                    return Arrays.copyOf(md.digest(), SUM);
                } catch (NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }

            public byte[] seal(byte[] plain, int off, int len, byte[] ad) {
                byte[] out = Arrays.copyOfRange(plain, off, off + len + SUM);
                System.arraycopy(sum(plain, off, len, ad), 0, out, len, SUM);
                return out;
            }

            public Optional<byte[]> open(byte[] sealed, int off, int len, byte[] ad) {
                if (len < SUM) {
                    return Optional.empty();
                }
                byte[] expected = sum(sealed, off, len - SUM, ad);
                if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(sealed, off + len - SUM, off + len))) {
                    return Optional.empty();
                }
                return Optional.of(Arrays.copyOfRange(sealed, off, off + len - SUM));
            }

            public int overhead() {
                return SUM;
            }
        };
    }
}
