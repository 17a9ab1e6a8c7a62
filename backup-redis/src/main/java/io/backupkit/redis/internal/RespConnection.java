package io.backupkit.redis.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A plain RESP connection for the replication handshake, which a client library cannot do: after
 * {@code SYNC} the server sends the RDB as a bulk without a trailing CRLF (or framed by an end marker),
 * possibly gigabytes, that must be streamed rather than held. Used for AUTH, INFO, REPLCONF and SYNC.
 */
public final class RespConnection implements Closeable {
    private final RedisUrl url;
    private final Socket socket;
    private final BufferedInputStream in;
    private final OutputStream out;

    private RespConnection(RedisUrl url, Socket socket) throws IOException {
        this.url = url;
        this.socket = socket;
        this.in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
        this.out = new BufferedOutputStream(socket.getOutputStream());
    }

    /** Connects and authenticates (AUTH [user] password when a password is given). */
    public static RespConnection open(RedisUrl url, char[] password, Duration timeout) {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(url.host(), url.port()), (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            s.setTcpNoDelay(true);
        } catch (IOException e) {
            closeQuietly(s);
            throw new EngineException("cannot connect to Redis at " + url + ": " + e.getMessage() + "; check that the server runs and "
                    + "listens on that address", e);
        }
        try {
            RespConnection c = new RespConnection(url, s);
            if (password != null && password.length > 0) {
                Object r = url.user() == null ? c.call("AUTH", new String(password)) : c.call("AUTH", url.user(), new String(password));
                if (r instanceof RespError e) {
                    c.close();
                    throw authFailed(url, e.message());
                }
            }
            return c;
        } catch (IOException e) {
            closeQuietly(s);
            throw new EngineException("Redis at " + url + " closed the connection during login: " + e.getMessage(), e);
        }
    }

    /** An error reply. */
    public record RespError(String message) {
    }

    /** Sends a command and reads one reply: String (simple), byte[] (bulk), Long, RespError, Object[] or null. */
    public Object call(String... args) throws IOException {
        send(args);
        return reply();
    }

    /** Like {@link #call} but an error reply becomes an exception naming the command. */
    public Object check(String... args) throws IOException {
        Object r = call(args);
        if (r instanceof RespError e) {
            throw commandFailed(url, args[0], e.message());
        }
        return r;
    }

    public void send(String... args) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(('*' + Integer.toString(args.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String a : args) {
            byte[] x = a.getBytes(StandardCharsets.UTF_8);
            b.write(('$' + Integer.toString(x.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            b.write(x);
            b.write('\r');
            b.write('\n');
        }
        out.write(b.toByteArray());
        out.flush();
    }

    public Object reply() throws IOException {
        String line = line();
        if (line.isEmpty()) {
            throw new IOException("empty reply line");
        }
        char t = line.charAt(0);
        String rest = line.substring(1);
        switch (t) {
            case '+' -> {
                return rest;
            }
            case '-' -> {
                return new RespError(rest);
            }
            case ':' -> {
                return Long.parseLong(rest);
            }
            case '$' -> {
                int n = Integer.parseInt(rest);
                if (n < 0) {
                    return null;
                }
                byte[] b = in.readNBytes(n + 2);
                if (b.length != n + 2) {
                    throw new EOFException("connection closed inside a reply");
                }
                return Arrays.copyOf(b, n);
            }
            case '*' -> {
                int n = Integer.parseInt(rest);
                if (n < 0) {
                    return null;
                }
                Object[] a = new Object[n];
                for (int i = 0; i < n; i++) {
                    a[i] = reply();
                }
                return a;
            }
            default -> throw new IOException("unexpected reply '" + line.charAt(0) + "'");
        }
    }

    /** One CRLF-terminated line; a bare "\n" (the keep-alive a master sends while it prepares the RDB) is an empty line. */
    public String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("Redis at " + url + " closed the connection");
            }
            if (c == '\n') {
                byte[] x = b.toByteArray();
                int len = x.length > 0 && x[x.length - 1] == '\r' ? x.length - 1 : x.length;
                return new String(x, 0, len, StandardCharsets.UTF_8);
            }
            b.write(c);
            if (b.size() > 1 << 20) {
                throw new IOException("reply line longer than 1 MiB");
            }
        }
    }

    /** The raw input, positioned after the last reply read (for the RDB bulk). */
    public InputStream input() {
        return in;
    }

    public RedisUrl url() {
        return url;
    }

    public void timeout(Duration d) throws IOException {
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, d.toMillis()));
    }

    /** A field of {@code INFO section} ("redis_version"), or null. */
    public String info(String section, String field) throws IOException {
        Object r = check("INFO", section);
        String text = r instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(r);
        for (String l : text.split("\r?\n")) {
            if (l.startsWith(field + ":")) {
                return l.substring(field.length() + 1).trim();
            }
        }
        return null;
    }

    @Override
    public void close() {
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    /** A failed login: wrong password, unknown user, or no password given where one is needed. */
    public static ConfigurationException authFailed(RedisUrl url, String serverMessage) {
        String who = url.user() == null ? "the default user" : "user " + url.user();
        return new ConfigurationException("Redis at " + url + " refused the login of " + who + " (" + serverMessage + "); check the user "
                + "in the URL and the password (engine option password; CLI: $BACKUPKIT_DB_PASSWORD or --db-password-file)");
    }

    /** A command the server refused; NOAUTH and NOPERM get their own advice. */
    public static RuntimeException commandFailed(RedisUrl url, String command, String serverMessage) {
        if (serverMessage.startsWith("NOAUTH")) {
            return new ConfigurationException("Redis at " + url + " requires a password (" + serverMessage + "); give it through the "
                    + "password option (CLI: $BACKUPKIT_DB_PASSWORD or --db-password-file)");
        }
        if (serverMessage.startsWith("WRONGPASS")) {
            return authFailed(url, serverMessage);
        }
        if (serverMessage.startsWith("NOPERM")) {
            return new ConfigurationException("Redis at " + url + " does not allow " + command + " for this user (" + serverMessage
                    + "); a backup needs +info +replconf +sync +psync, a restore +info +select +restore +scan +type +flushall and the "
                    + "read commands of every type (e.g. ACL SETUSER backup on >… ~* &* +@all -@dangerous +sync +psync +replconf +flushall)");
        }
        return new EngineException("Redis at " + url + " refused " + command + ": " + serverMessage);
    }

    /** Whether an IOException is a read timeout. */
    public static boolean isTimeout(IOException e) {
        return e instanceof SocketTimeoutException;
    }
}
