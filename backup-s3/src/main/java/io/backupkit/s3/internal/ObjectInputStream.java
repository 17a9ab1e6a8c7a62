package io.backupkit.s3.internal;

import io.backupkit.BackupException;
import io.backupkit.ChecksumMismatchException;
import io.backupkit.StorageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiFunction;

/**
 * The body of a GetObject response.
 * <ul>
 *   <li>The SDK retries a request until its response starts; a connection that breaks while the body
 *       streams is the caller's problem. Here such a break resumes with a ranged GET from the byte
 *       reached, pinned to the same object version by {@code If-Match: <etag>}, at most
 *       {@code maxResumes} times per stream. A resumed answer is used only if its
 *       {@code Content-Range} starts at the byte asked for and ends where this stream ends, and its
 *       length agrees: a store or proxy that answers with another range or the whole object would
 *       otherwise splice wrong bytes into the stream.</li>
 *   <li>Exactly {@code length} bytes are delivered, never more.</li>
 *   <li>When the first response carried the object's checksum ({@link ReadChecksum}), every byte
 *       delivered goes into it, across resumes, and the last byte is handed out only after the
 *       checksum matched; a mismatch is a {@link ChecksumMismatchException}.</li>
 *   <li>Closing before the end aborts the connection (draining a large pack just to reuse a
 *       connection costs more than a new one).</li>
 *   <li>SDK exceptions thrown while reading become backupkit exceptions naming the object.</li>
 * </ul>
 */
public final class ObjectInputStream extends InputStream {
    private static final Logger log = LoggerFactory.getLogger(ObjectInputStream.class);

    /** Opens the rest of the stream from {@code position} (relative to this stream's start) to its end. */
    @FunctionalInterface
    public interface Reopener {
        ResponseInputStream<GetObjectResponse> reopen(long position);
    }

    private ResponseInputStream<GetObjectResponse> in;
    private final String name;
    private final long offset;
    private final long length;
    private final Reopener reopener;
    private int resumesLeft;
    private final BiFunction<SdkException, String, BackupException> errors;
    private final ReadChecksum checksum;
    private long position;

    /**
     * @param offset   where in the object this stream starts (0 for a whole-object read)
     * @param length   bytes this stream must deliver (the response's content length)
     * @param reopener how to continue after a broken connection, or null to never resume
     * @param checksum the whole object's recorded checksum to check, or null
     */
    public ObjectInputStream(ResponseInputStream<GetObjectResponse> in, String name, long offset, long length, Reopener reopener,
                             int maxResumes, ReadChecksum checksum, BiFunction<SdkException, String, BackupException> errors) {
        this.in = in;
        this.name = name;
        this.offset = offset;
        this.length = length;
        this.reopener = reopener;
        this.resumesLeft = maxResumes;
        this.checksum = checksum;
        this.errors = errors;
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
        if (position >= length) {
            return -1;
        }
        while (true) {
            try {
                int n = in.read(b, off, (int) Math.min(len, length - position));
                if (n < 0) {
                    throw new IOException("connection closed after " + position + " of " + length + " bytes");
                }
                if (checksum != null) {
                    checksum.update(b, off, n);
                }
                position += n;
                if (position == length && checksum != null && !checksum.matches()) {
                    throw new ChecksumMismatchException(name, checksum.algorithm(), "the " + length + " bytes read do not match the "
                            + checksum.algorithm() + " checksum the store recorded for the object (damaged at rest or in transit)");
                }
                return n;
            } catch (SdkException e) {
                throw errors.apply(e, name);
            } catch (IOException e) {
                if (reopener == null || resumesLeft <= 0) {
                    throw e;
                }
                resumesLeft--;
                log.debug("reading {} broke after {} of {} bytes ({}); resuming with a ranged GET", name, position, length, e.toString());
                in.abort();
                ResponseInputStream<GetObjectResponse> resumed;
                try {
                    resumed = reopener.reopen(position);
                } catch (SdkException reopenFailed) {
                    throw errors.apply(reopenFailed, name);
                }
                checkResumed(resumed);
                in = resumed;
            }
        }
    }

    /** Refuses a resumed answer that does not hold exactly the bytes asked for. */
    private void checkResumed(ResponseInputStream<GetObjectResponse> resumed) {
        long from = offset + position;
        long to = offset + length - 1;
        GetObjectResponse r = resumed.response();
        String range = r.contentRange();
        Long got = r.contentLength();
        if (range == null || !range.strip().startsWith("bytes " + from + "-" + to + "/") || got == null || got != to - from + 1) {
            resumed.abort();
            throw new StorageException("resuming the read of " + name + " at byte " + from + " failed: asked for bytes " + from + "-"
                    + to + ", the store answered " + (range == null ? "without a Content-Range" : "with range '" + range + "'")
                    + " and " + got + " bytes; none of them were used (a store or proxy that does not honour Range)", true);
        }
    }

    @Override
    public int available() throws IOException {
        return position >= length ? 0 : (int) Math.min(in.available(), length - position);
    }

    @Override
    public void close() throws IOException {
        if (position < length) {
            in.abort();
        }
        in.close();
    }
}
