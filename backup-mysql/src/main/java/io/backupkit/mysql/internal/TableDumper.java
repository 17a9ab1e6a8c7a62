package io.backupkit.mysql.internal;

import io.backupkit.EngineException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/** Reads one table's rows in the data stream format ({@link RowFormat}); used by backups and by verification. */
public final class TableDumper {

    /**
     * What a dump wrote.
     *
     * @param rows       rows written
     * @param bytes      bytes written
     * @param rowsDigest for a table without a primary key (whose row order is not stable), an
     *                   order-independent digest of its rows (sum of the rows' SHA-256); else null
     */
    public record Result(long rows, long bytes, String rowsDigest) {
    }

    private TableDumper() {
    }

    /** Streams the rows of {@code t} into {@code out} with session {@code c} (its transaction decides what it sees). */
    public static Result dump(Connection c, ServerVersion v, TableInfo t, OutputStream out, String server) throws IOException {
        String sql = RowFormat.select(t, v);
        int n = t.dumpedColumns().size();
        boolean digest = t.primaryKey().isEmpty();
        MessageDigest md = digest ? sha256() : null;
        long sumHigh = 0;
        long sumLow = 0;
        long rows = 0;
        long bytes = 0;
        RowBuffer line = new RowBuffer();
        try (Statement st = c.createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
            st.setFetchSize(2000);
            try (ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    line.reset();
                    for (int i = 1; i <= n; i++) {
                        if (i > 1) {
                            line.write('\t');
                        }
                        RowFormat.writeValue(line, rs.getBytes(i));
                    }
                    if (digest) {
                        md.update(line.buffer(), 0, line.size());
                        ByteBuffer h = ByteBuffer.wrap(md.digest());
                        sumHigh += h.getLong();
                        sumLow += h.getLong();
                    }
                    line.write('\n');
                    out.write(line.buffer(), 0, line.size());
                    bytes += line.size();
                    rows++;
                }
            }
        } catch (SQLException e) {
            int code = Sessions.errorCode(e);
            if (code == Sessions.TABLE_DEF_CHANGED || code == Sessions.NO_SUCH_TABLE || code == 1054) {
                throw new EngineException("table " + t.qualifiedName() + " was changed by DDL (ALTER, TRUNCATE, DROP, …) after the "
                        + "backup's snapshot began, so its rows cannot be read consistently; run the backup again when the schema "
                        + "change is done: " + e.getMessage(), e);
            }
            if (code == Sessions.LOCK_WAIT_TIMEOUT) {
                throw new EngineException("reading table " + t.qualifiedName() + " waited longer than the lock wait timeout "
                        + "for a metadata lock (DDL queued on it?): " + e.getMessage(), e);
            }
            throw new EngineException("reading table " + t.qualifiedName() + " from " + server + " failed: " + e.getMessage(), e);
        }
        String d = digest ? HexFormat.of().formatHex(ByteBuffer.allocate(16).putLong(sumHigh).putLong(sumLow).array()) : null;
        return new Result(rows, bytes, d);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A reusable, unsynchronized row buffer. */
    static final class RowBuffer extends OutputStream {
        private byte[] buf = new byte[8192];
        private int size;

        void reset() {
            size = 0;
        }

        byte[] buffer() {
            return buf;
        }

        int size() {
            return size;
        }

        private void ensure(int extra) {
            if (size + extra > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, size + extra));
            }
        }

        @Override
        public void write(int b) {
            ensure(1);
            buf[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, buf, size, len);
            size += len;
        }
    }
}
