package io.backupkit.internal.repo;

import io.backupkit.Codecs;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.internal.Json;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Sealer;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * The repository's {@code config} object: {@code "BKC1" || mode || seal(JSON, "backupkit v1 config")}.
 *
 * <p>The mode byte only tells a reader which sealer to try before it has a key; what counts is the
 * {@link #encryption} field inside the sealed JSON, which a reader requires to agree with the header
 * and with how it opened the config. See docs/repository-format.md, "config".
 *
 * @param version     format version: {@link Formats#CONFIG_VERSION} for new repositories; 1 is still
 *                    read and written (see {@link #hashesChunksOnce()})
 * @param id          repository id, 32 hex digits
 * @param encryption  {@link #ENCRYPTED} or {@link #UNENCRYPTED}
 * @param chunker     FastCDC parameters
 * @param compression default codec name and level for new blobs
 * @param packSize    target pack size in bytes
 * @param created     creation time
 */
public record RepoConfig(int version, String id, String encryption, Chunker chunker, Compression compression,
                         int packSize, Instant created) {
    public static final String ENCRYPTED = "aes-256-gcm";
    public static final String UNENCRYPTED = "none";
    public static final int MIN_PACK_SIZE = 1024 * 1024;
    public static final int MAX_PACK_SIZE = 64 * 1024 * 1024;

    /** FastCDC parameters; the gear table is derived from {@code seed}. */
    public record Chunker(String algorithm, int min, int avg, int max, int normalization, long seed) {
    }

    public record Compression(String codec, int level) {
    }

    /**
     * Version 2 and later: a chunk's SHA-256 is computed once and both its blob id and its stream's
     * digest derive from it. Version 1: the blob id is an HMAC over the plaintext and the stream's
     * SHA-256 a second pass over the same bytes.
     */
    public boolean hashesChunksOnce() {
        return version >= 2;
    }

    public boolean encrypted() {
        return ENCRYPTED.equals(encryption);
    }

    /** The stored form: header with the mode byte this config's {@link #encryption} implies, then the sealed JSON. */
    public byte[] encode(Sealer sealer) {
        try {
            byte[] sealed = sealer.seal(Json.MAPPER.writeValueAsBytes(this), Formats.AD_CONFIG);
            byte[] out = new byte[5 + sealed.length];
            System.arraycopy(Formats.CONFIG_MAGIC, 0, out, 0, 4);
            out[4] = (byte) (encrypted() ? 1 : 0);
            System.arraycopy(sealed, 0, out, 5, sealed.length);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialize the config", e);
        }
    }

    /**
     * Reads the header of a stored config: checks the magic and returns whether the mode byte says
     * encrypted. Nothing here is authenticated yet; callers decide which sealer to use with it and
     * {@link #open} then checks the authenticated mode agrees.
     */
    public static boolean headerSaysEncrypted(byte[] stored) {
        Formats.checkMagic(Formats.CONFIG, "config", stored, 0, Formats.CONFIG_MAGIC);
        if (stored.length < 5) {
            throw new IntegrityException(Formats.CONFIG, "config is truncated after its magic");
        }
        int mode = stored[4];
        if (mode != 0 && mode != 1) {
            throw new IntegrityException(Formats.CONFIG, "config mode byte is " + (mode & 0xff)
                    + "; this backupkit knows 0 (unencrypted) and 1 (aes-256-gcm)");
        }
        return mode == 1;
    }

    /**
     * Opens a stored config with {@code sealer}: empty when the sealer does not authenticate it (the
     * wrong master key, or damage). An authenticated config is then checked completely: version,
     * mode (header, authenticated field and sealer must all agree) and every field's range.
     *
     * @throws IntegrityException     for a bad header, unreadable JSON, a mode mismatch or a value out of range
     * @throws ConfigurationException for a version or codec this backupkit does not support
     */
    public static Optional<RepoConfig> open(byte[] stored, Sealer sealer, boolean encryptedSealer) {
        boolean header = headerSaysEncrypted(stored);
        Optional<byte[]> json = sealer.open(stored, 5, stored.length - 5, Formats.AD_CONFIG);
        if (json.isEmpty()) {
            return Optional.empty();
        }
        RepoConfig c;
        try {
            c = Json.MAPPER.readValue(json.get(), RepoConfig.class);
        } catch (IOException e) {
            throw new IntegrityException(Formats.CONFIG, "config is unreadable: " + firstLine(e.getMessage()), e);
        }
        if (c == null) {
            throw new IntegrityException(Formats.CONFIG, "config is empty");
        }
        if (c.version() < Formats.CONFIG_VERSION_MIN || c.version() > Formats.CONFIG_VERSION) {
            throw new ConfigurationException(Formats.CONFIG + ": repository format (config) version " + c.version()
                    + " is not supported by this backupkit (it reads versions " + Formats.CONFIG_VERSION_MIN + " to "
                    + Formats.CONFIG_VERSION + ")" + (c.version() > Formats.CONFIG_VERSION ? "; upgrade backupkit to read it"
                    : "; the object is damaged or from another program"));
        }
        String expected = encryptedSealer ? ENCRYPTED : UNENCRYPTED;
        if (!expected.equals(c.encryption()) || header != encryptedSealer) {
            throw new IntegrityException(Formats.CONFIG, "config header says " + (header ? ENCRYPTED : UNENCRYPTED)
                    + ", it was opened " + (encryptedSealer ? "with a key" : "without a key") + ", and its authenticated content says "
                    + c.encryption() + "; these must agree. Refusing a config that may have been altered");
        }
        c.validate();
        return Optional.of(c);
    }

    /** {@link #open} that treats a config the sealer cannot authenticate as damaged. */
    public static RepoConfig decode(byte[] stored, Sealer sealer, boolean encryptedSealer) {
        return open(stored, sealer, encryptedSealer).orElseThrow(() -> new IntegrityException(Formats.CONFIG,
                "config fails authentication; the object is damaged"));
    }

    /** Every field in the range the builder allows, so nothing downstream trips over a hostile value. */
    void validate() {
        if (id == null || !id.matches("[0-9a-f]{32}")) {
            throw invalid("repository id " + quote(id) + " is not 32 hex digits");
        }
        if (chunker == null || !"fastcdc".equals(chunker.algorithm())) {
            throw invalid("chunker " + (chunker == null ? "is missing" : quote(chunker.algorithm()) + " is unknown; this backupkit has fastcdc"));
        }
        try {
            new FastCdcChunker(chunker.min(), chunker.avg(), chunker.max(), chunker.normalization(), chunker.seed());
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        if (chunker.max() > Formats.MAX_CHUNK) {
            throw invalid("maximum chunk size " + chunker.max() + " is above the format's " + Formats.MAX_CHUNK);
        }
        if (packSize < MIN_PACK_SIZE || packSize > MAX_PACK_SIZE) {
            throw invalid("pack size " + packSize + " is outside " + MIN_PACK_SIZE + "-" + MAX_PACK_SIZE);
        }
        if (compression == null || compression.codec() == null) {
            throw invalid("compression is missing");
        }
        if (created == null) {
            throw invalid("creation time is missing");
        }
        try {
            Codecs.byName(compression.codec() + ":" + compression.level());
        } catch (ConfigurationException e) {
            throw new ConfigurationException(Formats.CONFIG + ": " + e.getMessage(), e);
        }
    }

    private static IntegrityException invalid(String what) {
        return new IntegrityException(Formats.CONFIG, "config is invalid: " + what);
    }

    private static String quote(String s) {
        if (s == null) {
            return "(none)";
        }
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return "\"" + Formats.printable(b, 0, Math.min(b.length, 40)) + "\"";
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
