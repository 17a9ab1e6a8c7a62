package io.backupkit.internal.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Optional;

/**
 * AES-256-GCM with the JDK cipher: {@code nonce(12) || ciphertext || tag(16)}. The JDK buffers all
 * plaintext until {@code doFinal}, so callers seal bounded pieces (blobs of at most a few MiB).
 */
public final class Aead {
    public static final int NONCE_BYTES = 12;
    public static final int TAG_BYTES = 16;
    public static final int OVERHEAD = NONCE_BYTES + TAG_BYTES;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Cipher> CIPHERS = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM not available in this JVM", e);
        }
    });

    private static final int PIECE = 16 * 1024;
    private static final ThreadLocal<ByteBuffer[]> IN = ThreadLocal.withInitial(() -> new ByteBuffer[1]);
    private static final ThreadLocal<ByteBuffer[]> OUT = ThreadLocal.withInitial(() -> new ByteBuffer[1]);

    private static ByteBuffer direct(ThreadLocal<ByteBuffer[]> cache, int capacity) {
        ByteBuffer[] holder = cache.get();
        if (holder[0] == null || holder[0].capacity() < capacity) {
            // sized to what is opened (a key slot is 60 bytes, a blob up to a few MiB), in 256 KiB steps
            int step = 256 * 1024;
            holder[0] = ByteBuffer.allocateDirect(capacity <= 64 * 1024 ? 64 * 1024 : (capacity + step - 1) / step * step);
        }
        return holder[0].clear();
    }

    private Aead() {
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Seals {@code plain[off, off+len)} under {@code key}; {@code ad} is authenticated, not stored. */
    public static byte[] seal(byte[] key, byte[] plain, int off, int len, byte[] ad) {
        byte[] out = new byte[NONCE_BYTES + len + TAG_BYTES];
        seal(key, plain, off, len, ad, out, 0);
        return out;
    }

    /**
     * Seals {@code plain[off, off+len)} into {@code out[outOff, outOff + len + OVERHEAD)}, which must not
     * overlap the input; returns the bytes written ({@code len + OVERHEAD}).
     */
    public static int seal(byte[] key, byte[] plain, int off, int len, byte[] ad, byte[] out, int outOff) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, outOff, NONCE_BYTES);
        try {
            Cipher c = CIPHERS.get();
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, nonce));
            if (ad != null) {
                c.updateAAD(ad);
            }
            // JDK 17's AES-GCM runs ~50 MB/s on one call with more than ~256 KiB of heap array and
            // 1-2 GB/s when fed in 16 KiB pieces (same bytes out): see bench/jmh JdkGcmBenchmark
            int n = 0;
            int at = outOff + NONCE_BYTES;
            int end = off + len;
            for (int p = off; p < end; p += PIECE) {
                n += c.update(plain, p, Math.min(PIECE, end - p), out, at + n);
            }
            n += c.doFinal(out, at + n);
            if (n != len + TAG_BYTES) {
                throw new IllegalStateException("unexpected GCM output length " + n);
            }
            return NONCE_BYTES + n;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM seal failed", e);
        }
    }

    /** Opens a sealed box; empty when the key is wrong or the bytes were changed. */
    public static Optional<byte[]> open(byte[] key, byte[] sealed, int off, int len, byte[] ad) {
        if (len < OVERHEAD) {
            return Optional.empty();
        }
        try {
            Cipher c = CIPHERS.get();
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, sealed, off, NONCE_BYTES));
            if (ad != null) {
                c.updateAAD(ad);
            }
            // decryption buffers everything until doFinal; between direct buffers it stays fast
            int ctLen = len - NONCE_BYTES;
            ByteBuffer in = direct(IN, ctLen);
            in.put(sealed, off + NONCE_BYTES, ctLen).flip();
            ByteBuffer out = direct(OUT, ctLen);
            int n = c.doFinal(in, out);
            byte[] plain = new byte[n];
            out.flip().get(plain);
            return Optional.of(plain);
        } catch (AEADBadTagException e) {
            return Optional.empty();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM open failed", e);
        }
    }
}
