package io.backupkit.postgres.internal.wal;

import io.backupkit.postgres.internal.UnconnectedSocketFactory;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.Properties;

/**
 * Sockets with aggressive TCP keepalive (idle 15 s, then 3 probes 5 s apart), for the replication
 * connection. That connection runs with {@code socketTimeout=0} (pgjdbc 42.7.11–42.7.14 break a
 * replication stream when a socket timeout fires, see {@code WalStreamer}), so without keepalive a
 * half-open connection after a network failure would wait for hours; with it the read fails within
 * about 30 s and the receiver reconnects. Given to pgjdbc by class name ({@code socketFactory}).
 */
public final class KeepAliveSocketFactory extends UnconnectedSocketFactory {
    private static final int IDLE_SECONDS = 15;
    private static final int INTERVAL_SECONDS = 5;
    private static final int PROBES = 3;

    public KeepAliveSocketFactory() {
    }

    /** pgjdbc passes the connection properties to factories that take them. */
    public KeepAliveSocketFactory(Properties info) {
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket s = new Socket();
        configure(s);
        return s;
    }

    /** Turns keepalive on with the timers above (the system defaults where the platform has no per-socket timers). */
    public static void configure(Socket s) throws SocketException {
        s.setKeepAlive(true);
        try {
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, IDLE_SECONDS);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, INTERVAL_SECONDS);
            s.setOption(jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, PROBES);
        } catch (UnsupportedOperationException | IOException e) {
            // platform without per-socket keepalive timers: the system defaults apply
        }
    }
}
