package io.backupkit.internal.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HexFormat;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    /** Seeded random parameters near the edges: odd memory sizes, several lanes, 1-4 passes (32-byte tags; lengths below). */
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

    /**
     * Tag lengths around the edges of H' (RFC 9106 section 3.3): the 4-byte minimum, one Blake2b output
     * (up to 64 bytes), the chained construction from 65 bytes on (its last piece 33-64 bytes long), and a
     * long tag, against Bouncy Castle's generator. The tag length also enters H0, so every byte differs.
     */
    @ParameterizedTest
    @ValueSource(ints = {4, 5, 31, 32, 33, 63, 64, 65, 96, 97, 128, 129, 1000})
    void sameOutputAsBouncyCastle_forShortAndLongTags(int tagLength) {
        Random r = new Random(tagLength);
        byte[] password = new byte[1 + r.nextInt(40)];
        r.nextBytes(password);
        byte[] salt = new byte[16];
        r.nextBytes(salt);
        int p = 1 + r.nextInt(3);
        int m = 8 * p + r.nextInt(100);
        int t = 1 + r.nextInt(3);
        org.bouncycastle.crypto.generators.Argon2BytesGenerator bc = new org.bouncycastle.crypto.generators.Argon2BytesGenerator();
        bc.init(new org.bouncycastle.crypto.params.Argon2Parameters.Builder(org.bouncycastle.crypto.params.Argon2Parameters.ARGON2_id)
                .withVersion(org.bouncycastle.crypto.params.Argon2Parameters.ARGON2_VERSION_13).withSalt(salt)
                .withMemoryAsKB(m).withIterations(t).withParallelism(p).build());
        byte[] expected = new byte[tagLength];
        bc.generateBytes(password, expected);
        for (int threads = 1; threads <= p; threads++) {
            byte[] ours = Argon2id.hash(password, salt, m, t, p, tagLength, threads);
            assertEquals(tagLength, ours.length);
            assertArrayEquals(expected, ours, "tag " + tagLength + " m=" + m + " t=" + t + " p=" + p + " threads=" + threads);
        }
    }

    @Test
    void tagsShorterThanFourBytes_areRefused() {
        assertThrows(IllegalArgumentException.class, () -> Argon2id.hash(new byte[8], new byte[16], 64, 1, 1, 3, 1));
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
