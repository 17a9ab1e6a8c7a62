package io.backupkit.s3;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * S3 over TLS and through a proxy, set up the ways a user of {@link S3Storage} can (it has no TLS or proxy settings of
 * its own; it reads the JVM's): an {@code https} endpoint whose certificate the JVM's trust store
 * ({@code javax.net.ssl.trustStore}) vouches for, and one it does not; a forward proxy chosen by the endpoint's scheme
 * as the JVM, curl and the AWS CLI choose it: {@code http.proxyHost} for an {@code http} endpoint (requests in
 * absolute form; its client sets TLS up only on first use, {@code TlsOnFirstUse}), {@code https.proxyHost} for an
 * {@code https} one (a CONNECT tunnel, the proxy spoken to in plain HTTP), neither for a host in
 * {@code http.nonProxyHosts}.
 *
 * <p>The system properties are set only while a storage is built (the SDK and {@code S3Storage} read them then) and
 * restored right after; {@link #noPropertyLeftBehind()} checks that none outlives its test, since the other
 * {@code *IT} classes run in the same JVM.
 */
class S3TlsIT {
    /** Every system property a test here sets. */
    private static final List<String> PROPERTIES = List.of("javax.net.ssl.trustStore", "javax.net.ssl.trustStorePassword",
            "javax.net.ssl.trustStoreType", "http.proxyHost", "http.proxyPort", "https.proxyHost", "https.proxyPort",
            "http.nonProxyHosts");
    static SelfSignedCertificate cert;
    static S3ProxyFixture s3;
    private Map<String, String> before;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cert = SelfSignedCertificate.create(dir);
        s3 = new S3ProxyFixture().withTls(cert.keyStore(), cert.password()).start();
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
    }

    @BeforeEach
    void rememberProperties() {
        before = SystemProperties.of(PROPERTIES);
    }

    @AfterEach
    void noPropertyLeftBehind() {
        Map<String, String> after = SystemProperties.of(PROPERTIES);
        SystemProperties.restore(before);
        assertEquals(before, after, "system properties left behind");
    }

    /** The JVM properties a user sets to trust the store's certificate. */
    private static Map<String, String> trust() {
        return Map.of("javax.net.ssl.trustStore", cert.trustStore().toString(),
                "javax.net.ssl.trustStorePassword", cert.password(),
                "javax.net.ssl.trustStoreType", "PKCS12");
    }

    /** The JVM's proxy for {@code http} URLs. */
    private static Map<String, String> httpProxy(ForwardProxy proxy) {
        return Map.of("http.proxyHost", "127.0.0.1", "http.proxyPort", String.valueOf(proxy.port()));
    }

    /** The JVM's proxy for {@code https} URLs (a plain-HTTP proxy that tunnels them, as corporate proxies do). */
    private static Map<String, String> httpsProxy(ForwardProxy proxy) {
        return Map.of("https.proxyHost", "127.0.0.1", "https.proxyPort", String.valueOf(proxy.port()));
    }

    /** The hosts the JVM reaches without a proxy, for {@code http} and {@code https} URLs alike. */
    private static Map<String, String> nonProxyHosts(String hosts) {
        return Map.of("http.nonProxyHosts", hosts);
    }

    @SafeVarargs
    private static <T> T withProperties(Supplier<T> action, Map<String, String>... properties) {
        Map<String, String> old = new HashMap<>();
        for (Map<String, String> p : properties) {
            p.forEach((k, v) -> {
                old.put(k, System.getProperty(k));
                System.setProperty(k, v);
            });
        }
        try {
            return action.get();
        } finally {
            SystemProperties.restore(old);
        }
    }

    /** A backup of two streams (one of them in multipart uploads) restored byte for byte, and the repository checked. */
    private static void backupRestoresExactly(S3Storage storage) {
        GeneratedStreams streams = new GeneratedStreams()
                .stream("table-orders", 12L << 20, 11)
                .stream("schema", 4321, 12);
        try (storage; Repository repo = Repository.builder().storage(storage).password("tls pw".toCharArray()).packSize(8 << 20).create()) {
            BackupResult backup = BackupManager.builder().repository(repo).source(streams.source()).build().backup();
            assertEquals(streams.totalBytes(), backup.bytesRead());
            RestoreManager.builder().repository(repo).snapshot("latest").target(streams.target()).build().restore();
            assertEquals(Map.of("table-orders", 12L << 20, "schema", 4321L), streams.restored());
            assertTrue(repo.check().ok(), repo.check().errors().toString());
        }
    }

    @Test
    void httpsEndpoint_trustedByTheJvmsTrustStore_backupRestoresExactly() {
        String bucket = s3.newBucket();
        S3Storage storage = withProperties(() -> s3.storage(bucket, s3.secureEndpoint()).partSize(S3Storage.MIN_PART_SIZE).build(), trust());
        backupRestoresExactly(storage);
    }

    @Test
    void httpsEndpoint_notTrusted_failsSoon_withAMessageNamingTheEndpointAndTheFix_withoutTheSecret() {
        String bucket = s3.newBucket();
        ConfigurationException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (S3Storage storage = s3.storage(bucket, s3.secureEndpoint()).build()) {
                return assertThrows(ConfigurationException.class,
                        () -> Repository.builder().storage(storage).password("tls pw".toCharArray()).create().close());
            }
        });
        String message = e.getMessage();
        System.out.println("untrusted https endpoint: " + message);
        assertTrue(message.contains(s3.secureEndpoint().toString()), message);
        assertTrue(message.contains("certificate") && message.contains("not trusted"), message);
        assertTrue(message.contains("javax.net.ssl.trustStore"), message);
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        assertFalse(trace.toString().contains(s3.secretKey()), trace.toString());
    }

    @Test
    void httpEndpoint_throughTheJvmsHttpProxy_backupRestoresExactly() throws Exception {
        String bucket = s3.newBucket();
        try (ForwardProxy proxy = new ForwardProxy()) {
            S3Storage storage = withProperties(() -> s3.storage(bucket).partSize(S3Storage.MIN_PART_SIZE).build(), httpProxy(proxy));
            backupRestoresExactly(storage);
            List<String> lines = proxy.firstLines();
            assertFalse(lines.isEmpty(), "no request went through the proxy");
            String origin = " http://127.0.0.1:" + s3.port() + "/" + bucket;
            assertTrue(lines.stream().allMatch(l -> l.contains(origin)), "requests in absolute form for the store: " + lines);
        }
    }

    /**
     * {@code https.proxyHost} for an https endpoint; and with no https proxy set, the SDK's own choice, as before
     * backupkit read {@code https.proxyHost}: {@code http.proxyHost} tunnels an https endpoint too (a setup that relies
     * on it keeps working).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"https.proxyHost", "http.proxyHost"})
    void httpsEndpoint_throughTheJvmsProxy_tunnels_backupRestoresExactly(String setting) throws Exception {
        String bucket = s3.newBucket();
        try (ForwardProxy proxy = new ForwardProxy()) {
            S3Storage storage = withProperties(() -> s3.storage(bucket, s3.secureEndpoint()).partSize(S3Storage.MIN_PART_SIZE).build(),
                    trust(), setting.startsWith("https") ? httpsProxy(proxy) : httpProxy(proxy));
            backupRestoresExactly(storage);
            List<String> lines = proxy.firstLines();
            assertFalse(lines.isEmpty(), "no request went through the proxy");
            // a CONNECT in plain HTTP: a proxy spoken to over TLS would have sent a ClientHello as its first line
            String tunnel = "CONNECT 127.0.0.1:" + s3.secureEndpoint().getPort() + " ";
            assertTrue(lines.stream().allMatch(l -> l.startsWith(tunnel)), "a tunnel to the store: " + lines);
        }
    }

    /**
     * Where the proxy is not for the endpoint: an {@code https} proxy is not used for an {@code http} endpoint, and no
     * proxy for a host in {@code http.nonProxyHosts}, whatever the endpoint's scheme.
     */
    @ParameterizedTest(name = "{0} endpoint, {1} proxy, bypassed: {2}")
    @CsvSource({"http, https, false", "https, https, true", "http, http, true"})
    void endpoint_whoseProxyIsNotForIt_connectsDirectly_backupRestoresExactly(String endpoint, String proxyFor, boolean bypassed)
            throws Exception {
        String bucket = s3.newBucket();
        boolean https = endpoint.equals("https");
        try (ForwardProxy proxy = new ForwardProxy()) {
            S3Storage storage = withProperties(
                    () -> (https ? s3.storage(bucket, s3.secureEndpoint()) : s3.storage(bucket)).partSize(S3Storage.MIN_PART_SIZE).build(),
                    https ? trust() : Map.of(), proxyFor.equals("https") ? httpsProxy(proxy) : httpProxy(proxy),
                    bypassed ? nonProxyHosts("localhost|127.0.0.1") : Map.of());
            backupRestoresExactly(storage);
            assertEquals(List.of(), proxy.firstLines(), "connections through the proxy");
        }
    }
}
