package io.backupkit.s3.internal;

import io.backupkit.BackupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiFunction;

/**
 * The body of a GetObject response.
 * <ul>
 *   <li>The SDK retries a request until its response starts; a connection that breaks while the body
 *       streams is the caller's problem. Here such a break resumes with a ranged GET from the byte
 *       reached, pinned to the same object version by {@code If-Match: <etag>}, at most
 *       {@code maxResumes} times per stream.</li>
 *   <li>Closing before the end aborts the connection (draining a large pack just to reuse a
 *       connection costs more than a new one).</li>
 *   <li>SDK exceptions thrown while reading (checksum mismatch) become backupkit exceptions naming the
 *       object.</li>
 * </ul>
 */
public final class ObjectInputStream extends InputStream {
    private static final Logger log = LoggerFactory.getLogger(ObjectInputStream.class);

    /** Opens the rest of the object from {@code position} (relative to this stream's start). */
    @FunctionalInterface
    public interface Reopener {
        ResponseInputStream<?> reopen(long position);
    }

    private ResponseInputStream<?> in;
    private final String name;
    private final long length;
    private final Reopener reopener;
    private int resumesLeft;
    private final BiFunction<SdkException, String, BackupException> errors;
    private long position;
    private boolean eof;

    /**
     * @param length   bytes this stream must deliver (the response's content length)
     * @param reopener how to continue after a broken connection, or null to never resume
     */
    public ObjectInputStream(ResponseInputStream<?> in, String name, long length, Reopener reopener, int maxResumes,
                             BiFunction<SdkException, String, BackupException> errors) {
        this.in = in;
        this.name = name;
        this.length = length;
        this.reopener = reopener;
        this.resumesLeft = maxResumes;
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
        while (true) {
            try {
                int n = in.read(b, off, len);
                if (n < 0) {
                    if (position < length) {
                        throw new IOException("connection closed after " + position + " of " + length + " bytes");
                    }
                    eof = true;
                    return -1;
                }
                position += n;
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
                if (position >= length) {
                    eof = true;
                    return -1;
                }
                try {
                    in = reopener.reopen(position);
                } catch (SdkException reopenFailed) {
                    throw errors.apply(reopenFailed, name);
                }
            }
        }
    }

    @Override
    public int available() throws IOException {
        return in.available();
    }

    @Override
    public void close() throws IOException {
        if (!eof) {
            in.abort();
        }
        in.close();
    }
}
