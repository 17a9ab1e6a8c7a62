package io.backupkit.internal.log;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.backupkit.Codecs;
import io.backupkit.IntegrityException;
import io.backupkit.internal.Json;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.Formats;
import io.backupkit.spi.CompressionCodec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

/**
 * Repository format of one log object (docs/repository-format.md, "Log archive"):
 * <pre>
 * "BKL1" || headerLength (4) || seal(header JSON, "backupkit v1 log header" 0 name) || piece_0 || … || piece_n-1
 * piece_i = sealedLength (4) || seal(codec id (1) || compressed, "backupkit v1 log piece" 0 name 0 i (4) last (1))
 * </pre>
 * The full storage name is in every piece's associated data, so a renamed or swapped object fails to
 * open; the piece index and the last-piece flag make reordering and truncation fail too. Content is
 * cut into pieces of {@link #PIECE_SIZE} plaintext bytes so nothing larger is sealed at once.
 */
public final class LogObjectFormat {
    /** Plaintext bytes per sealed piece. */
    public static final int PIECE_SIZE = 1024 * 1024;
    /** Upper bound of a sealed header; a larger length field means damage. */
    static final int MAX_HEADER = 64 * 1024;
    static final int MAX_ATTRIBUTES = 16 * 1024;

    private LogObjectFormat() {
    }

    /** The sealed header's JSON. */
    record Header(@JsonProperty("version") int version,
                  @JsonProperty("name") String name,
                  @JsonProperty("length") long length,
                  @JsonProperty("sha256") String sha256,
                  @JsonProperty("pieceSize") int pieceSize,
                  @JsonProperty("pieces") int pieces,
                  @JsonProperty("created") Instant created,
                  @JsonProperty("attributes") Map<String, String> attributes) {
    }

    static byte[] headerAd(String storageName) {
        return concat(Formats.AD_LOG_HEADER, new byte[] {0}, storageName.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] pieceAd(String storageName, int index, boolean last) {
        byte[] name = storageName.getBytes(StandardCharsets.UTF_8);
        byte[] tail = new byte[] {0, (byte) (index >>> 24), (byte) (index >>> 16), (byte) (index >>> 8), (byte) index, (byte) (last ? 1 : 0)};
        return concat(Formats.AD_LOG_PIECE, new byte[] {0}, name, tail);
    }

    static byte[] sealHeader(Header header, Sealer sealer) {
        try {
            return sealer.seal(Json.MAPPER.writeValueAsBytes(header), headerAd(header.name()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Header openHeader(String storageName, byte[] sealed, int off, int len, Sealer sealer) {
        byte[] json = sealer.open(sealed, off, len, headerAd(storageName)).orElseThrow(() -> new IntegrityException(storageName,
                "log object header does not authenticate: the object is damaged, or was renamed or swapped with another"));
        Header h;
        try {
            h = Json.MAPPER.readValue(json, Header.class);
        } catch (IOException e) {
            throw new IntegrityException(storageName, "log object header is unreadable", e);
        }
        if (h.version() != 1) {
            throw new IntegrityException(storageName, "log object format version " + h.version() + " is not supported (this build reads 1)");
        }
        if (!storageName.equals(h.name()) || h.length() < 0 || h.pieceSize() <= 0 || h.pieces() < 0 || h.sha256() == null
                || h.pieces() != piecesFor(h.length(), h.pieceSize())) {
            throw new IntegrityException(storageName, "log object header is inconsistent");
        }
        return h;
    }

    static int piecesFor(long length, int pieceSize) {
        return (int) Math.max(1, (length + pieceSize - 1) / pieceSize);
    }

    /** codec id || compressed, or codec 0 when compressing does not help. */
    static byte[] encodePiece(CompressionCodec codec, byte[] plain, int off, int len) {
        byte[] compressed = codec.id() == 0 ? null : codec.compress(plain, off, len);
        if (compressed == null || compressed.length >= len) {
            byte[] out = new byte[1 + len];
            System.arraycopy(plain, off, out, 1, len);
            return out;
        }
        byte[] out = new byte[1 + compressed.length];
        out[0] = (byte) codec.id();
        System.arraycopy(compressed, 0, out, 1, compressed.length);
        return out;
    }

    static byte[] decodePiece(String storageName, int index, byte[] payload, int expectedLength) {
        if (payload.length < 1) {
            throw new IntegrityException(storageName, "log piece " + index + " is empty");
        }
        int codecId = payload[0] & 0xff;
        try {
            if (codecId == 0) {
                if (payload.length - 1 != expectedLength) {
                    throw new IntegrityException(storageName, "log piece " + index + " has " + (payload.length - 1)
                            + " bytes, expected " + expectedLength);
                }
                return Arrays.copyOfRange(payload, 1, payload.length);
            }
            CompressionCodec c = Codecs.byId(codecId);
            return c.decompress(payload, 1, payload.length - 1, expectedLength);
        } catch (IntegrityException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IntegrityException(storageName, "log piece " + index + " does not decompress (codec " + codecId + ")", e);
        }
    }

    static void putInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xff) << 24) | ((b[off + 1] & 0xff) << 16) | ((b[off + 2] & 0xff) << 8) | (b[off + 3] & 0xff);
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
