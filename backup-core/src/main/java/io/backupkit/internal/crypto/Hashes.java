package io.backupkit.internal.crypto;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 and HMAC-SHA256 helpers. */
public final class Hashes {
    private static final HexFormat HEX = HexFormat.of();

    private Hashes() {
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] sha256(byte[] data, int off, int len) {
        MessageDigest md = sha256();
        md.update(data, off, len);
        return md.digest();
    }

    public static String sha256Hex(byte[] data) {
        return HEX.formatHex(sha256(data, 0, data.length));
    }

    public static String hex(byte[] b) {
        return HEX.formatHex(b);
    }

    public static byte[] unhex(String s) {
        return HEX.parseHex(s);
    }

    public static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
