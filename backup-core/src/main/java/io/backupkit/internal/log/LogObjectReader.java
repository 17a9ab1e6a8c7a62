package io.backupkit.internal.log;

import io.backupkit.IntegrityException;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.Formats;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Reads a stored log object piece by piece: each piece is authenticated (with the object's name,
 * its index and the last-piece flag) before any of its bytes are returned; at the end the content's
 * length and SHA-256 are compared with the header, and trailing bytes are refused.
 */
final class LogObjectReader extends InputStream {
    private final String storageName;
    private final InputStream raw;
    private final Sealer sealer;
    private final LogObjectFormat.Header header;
    private final MessageDigest sha = Hashes.sha256();
    private int nextPiece;
    private long delivered;
    private byte[] current = new byte[0];
    private int pos;
    private boolean finished;

    LogObjectReader(String storageName, InputStream raw, Sealer sealer) throws IOException {
        this.storageName = storageName;
        this.raw = raw;
        this.sealer = sealer;
        byte[] fixed = readFully(8, "header");
        if (!Arrays.equals(Arrays.copyOf(fixed, 4), Formats.LOG_MAGIC)) {
            throw new IntegrityException(storageName, "not a backupkit log object (bad magic)");
        }
        int headerLength = LogObjectFormat.getInt(fixed, 4);
        if (headerLength <= 0 || headerLength > LogObjectFormat.MAX_HEADER) {
            throw new IntegrityException(storageName, "log object header length " + headerLength + " is out of range");
        }
        byte[] sealedHeader = readFully(headerLength, "header");
        this.header = LogObjectFormat.openHeader(storageName, sealedHeader, 0, sealedHeader.length, sealer);
    }

    LogObjectFormat.Header header() {
        return header;
    }

    private byte[] readFully(int n, String what) throws IOException {
        byte[] b = new byte[n];
        try {
            int r = raw.readNBytes(b, 0, n);
            if (r < n) {
                throw new EOFException();
            }
        } catch (EOFException e) {
            throw new IntegrityException(storageName, "log object is cut short (in its " + what + ")");
        }
        return b;
    }

    private boolean nextPiece() throws IOException {
        if (nextPiece >= header.pieces()) {
            if (!finished) {
                finished = true;
                if (raw.read() != -1) {
                    throw new IntegrityException(storageName, "log object has bytes after its last piece");
                }
                String actual = Hashes.hex(sha.digest());
                if (delivered != header.length() || !actual.equals(header.sha256())) {
                    throw new IntegrityException(storageName, "log object content does not match its header (" + delivered
                            + " bytes, SHA-256 " + actual.substring(0, 16) + "…)");
                }
            }
            return false;
        }
        int index = nextPiece++;
        boolean last = nextPiece == header.pieces();
        int sealedLength = LogObjectFormat.getInt(readFully(4, "piece " + index), 0);
        if (sealedLength <= 0 || sealedLength > header.pieceSize() + 1 + 1024 * 1024) {
            throw new IntegrityException(storageName, "log piece " + index + " length " + sealedLength + " is out of range");
        }
        byte[] sealed = readFully(sealedLength, "piece " + index);
        byte[] payload = sealer.open(sealed, 0, sealed.length, LogObjectFormat.pieceAd(storageName, index, last))
                .orElseThrow(() -> new IntegrityException(storageName, "log piece " + index
                        + " does not authenticate: the object is damaged, reordered, or was renamed or swapped"));
        long remaining = header.length() - (long) index * header.pieceSize();
        int expected = (int) Math.min(header.pieceSize(), remaining);
        current = LogObjectFormat.decodePiece(storageName, index, payload, expected);
        pos = 0;
        sha.update(current);
        return true;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos >= current.length) {
            if (!nextPiece()) {
                return -1;
            }
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        delivered += n;
        if (pos >= current.length && nextPiece >= header.pieces()) {
            // check the whole content before the caller sees the end of the stream
            nextPiece();
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        raw.close();
    }
}
