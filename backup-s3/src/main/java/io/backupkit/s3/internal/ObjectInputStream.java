package io.backupkit.s3.internal;

import io.backupkit.BackupException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;

import java.io.IOException;
import java.io.InputStream;
import java.util.function.BiFunction;

/**
 * The body of a GetObject response. Aborts the HTTP connection when closed before the end (draining
 * a large pack just to reuse a connection costs more than a new connection), and turns SDK exceptions
 * thrown while reading (checksum mismatch) into backupkit exceptions that name the object.
 */
public final class ObjectInputStream extends InputStream {
    private final ResponseInputStream<?> in;
    private final String name;
    private final BiFunction<SdkException, String, BackupException> errors;
    private boolean eof;

    public ObjectInputStream(ResponseInputStream<?> in, String name, BiFunction<SdkException, String, BackupException> errors) {
        this.in = in;
        this.name = name;
        this.errors = errors;
    }

    @Override
    public int read() throws IOException {
        try {
            int b = in.read();
            if (b < 0) {
                eof = true;
            }
            return b;
        } catch (SdkException e) {
            throw errors.apply(e, name);
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            int n = in.read(b, off, len);
            if (n < 0) {
                eof = true;
            }
            return n;
        } catch (SdkException e) {
            throw errors.apply(e, name);
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
