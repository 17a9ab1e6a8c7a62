package io.backupkit.internal.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * backupkit's Argon2id computes exactly the function Bouncy Castle's generator computes (every password
 * slot written so far was derived with the latter), whatever the parameters and thread count, and
 * matches the RFC 9106 test vector.
 */
class Argon2idTest {

    /** RFC 9106 section 5.3 (Argon2id, version 0x13), with secret and associated data. */
    @Test
    void rfc9106TestVector() {
        byte[] password = filled(32, 0x01);
        byte[] salt = filled(16, 0x02);
        byte[] secret = filled(8, 0x03);
        byte[] ad = filled(12, 0x04);
        String expected = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659";
        for (int threads : new int[] {1, 2, 4}) {
            byte[] tag = Argon2id.hash(password, salt, secret, ad, 32, 3, 4, 32, threads);
            assertEquals(expected, HexFormat.of().formatHex(tag), "threads " + threads);
        }
    }

    /** Seeded random parameters near the edges: odd memory sizes, several lanes, 1-4 passes, short and long tags. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void sameOutputAsBouncyCastle(long seed) {
        Random r = new Random(seed);
        int p = 1 + r.nextInt(4);
        int m = 8 * p + r.nextInt(600);
        int t = 1 + r.nextInt(4);
        byte[] salt = new byte[8 + r.nextInt(57)];
        r.nextBytes(salt);
        char[] password = new char[r.nextInt(40)];
        for (int i = 0; i < password.length; i++) {
            // ASCII, Latin-1, CJK: the UTF-8 conversion must match too
            password[i] = switch (r.nextInt(3)) {
                case 0 -> (char) (0x20 + r.nextInt(95));
                case 1 -> (char) (0xa0 + r.nextInt(0x60));
                default -> (char) (0x4e00 + r.nextInt(0x1000));
            };
        }
        byte[] bc = Kdf.argon2idBouncyCastle(password, salt, m, t, p);
        for (int threads = 1; threads <= p + 1; threads++) {
            byte[] ours = Argon2id.hash(org.bouncycastle.crypto.PasswordConverter.UTF8.convert(password), salt, m, t, p, 32, threads);
            assertArrayEquals(bc, ours, "m=" + m + " t=" + t + " p=" + p + " threads=" + threads);
        }
        assertArrayEquals(bc, Kdf.argon2id(password, salt, m, t, p));
    }

    /** The parameters a new slot gets by default and the OWASP floor, as slots store them. */
    @Test
    void sameOutputAsBouncyCastle_atTheParametersSlotsUse() {
        byte[] salt = filled(16, 0x5a);
        char[] pw = "correct horse battery staple \u00e9\u4e2d\ud83d\ude00".toCharArray();
        assertArrayEquals(Kdf.argon2idBouncyCastle(pw, salt, 19 * 1024, 2, 1), Kdf.argon2id(pw, salt, 19 * 1024, 2, 1));
        assertArrayEquals(Kdf.argon2idBouncyCastle(pw, salt, 64 * 1024, 3, 2), Kdf.argon2id(pw, salt, 64 * 1024, 3, 2));
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) v);
        return b;
    }
}
