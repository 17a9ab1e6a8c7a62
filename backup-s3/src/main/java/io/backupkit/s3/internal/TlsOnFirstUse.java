package io.backupkit.s3.internal;

import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.protocol.HttpContext;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.Socket;

/**
 * The TLS of a client whose endpoint is plain {@code http://} (S3Proxy, MinIO or Ceph on a local network): set up
 * only if a connection ever needs it (an {@code https} proxy in front of that endpoint), with the JVM's defaults and
 * the {@code javax.net.ssl.*}, {@code https.protocols} and {@code https.cipherSuites} system properties. None does
 * today: the only proxy such a client can have is the SDK's from {@code http.proxyHost} or {@code HTTP_PROXY}, which
 * it always speaks to in plain HTTP ({@code S3TlsIT} goes through one); {@code https.proxyHost} and
 * {@code HTTPS_PROXY} are for {@code https} endpoints only ({@link HttpsEndpointProxy}).
 *
 * <p>Why: the SDK's HTTP client otherwise builds an {@code SSLContext} and parses the JDK's trust store whenever it is
 * built, ~50 ms of CPU on the main thread of every CLI call against such an endpoint, while the key derivation and
 * the JIT compilers already fill both cores (docs/performance.md, "s3s30"). Clients of {@code https} endpoints keep
 * the SDK's own TLS setup.
 *
 * <pre>{@code
 * Apache5HttpClient.builder().tlsSocketStrategy(new TlsOnFirstUse())
 * }</pre>
 */
public final class TlsOnFirstUse implements TlsSocketStrategy {
    private volatile TlsSocketStrategy delegate;

    @Override
    public SSLSocket upgrade(Socket socket, String target, int port, Object attachment, HttpContext context) throws IOException {
        return delegate().upgrade(socket, target, port, attachment, context);
    }

    private TlsSocketStrategy delegate() {
        TlsSocketStrategy d = delegate;
        if (d == null) {
            synchronized (this) {
                d = delegate;
                if (d == null) {
                    d = DefaultClientTlsStrategy.createSystemDefault();
                    delegate = d;
                }
            }
        }
        return d;
    }
}
