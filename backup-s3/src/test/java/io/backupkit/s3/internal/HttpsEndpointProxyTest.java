package io.backupkit.s3.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.s3.SystemProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.http.apache5.ProxyConfiguration;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The proxy an {@code https} endpoint's client gets from the JVM's properties: what {@code S3TlsIT} cannot show
 * with a proxy on a free port (the JVM's default port, the login, a bad host). Every property is restored after each
 * test; the other unit tests run in the same JVM.
 */
class HttpsEndpointProxyTest {
    private static final List<String> PROPERTIES = List.of("http.proxyHost", "http.proxyPort", "https.proxyHost",
            "https.proxyPort", "https.proxyUser", "https.proxyPassword", "http.nonProxyHosts");
    private static final String ENDPOINT = "https://s3.example.com";
    private final Map<String, String> before = new HashMap<>();

    @BeforeEach
    void clearProperties() {
        PROPERTIES.forEach(k -> before.put(k, System.clearProperty(k)));
    }

    @AfterEach
    void restoreProperties() {
        SystemProperties.restore(before);
    }

    @Test
    void httpsProxyHost_withoutPort_isPort443_spokenToInPlainHttp() {
        System.setProperty("https.proxyHost", "proxy.corp.example");
        ProxyConfiguration proxy = HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT).orElseThrow();
        assertEquals("proxy.corp.example", proxy.host());
        assertEquals(443, proxy.port());
        assertEquals("http", proxy.scheme());
    }

    @Test
    void httpsProxyUserAndPassword_andNonProxyHosts_comeAlong() {
        System.setProperty("https.proxyHost", "proxy.corp.example");
        System.setProperty("https.proxyPort", "3128");
        System.setProperty("https.proxyUser", "alice");
        System.setProperty("https.proxyPassword", "proxy-secret");
        System.setProperty("http.nonProxyHosts", "minio.local|*.internal.example");
        ProxyConfiguration proxy = HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT).orElseThrow();
        assertEquals(3128, proxy.port());
        assertEquals("http", proxy.scheme());
        assertEquals("alice", proxy.username());
        assertEquals("proxy-secret", proxy.password());
        assertTrue(proxy.nonProxyHosts().stream().anyMatch("minio.local"::matches), proxy.nonProxyHosts().toString());
        assertTrue(proxy.nonProxyHosts().stream().anyMatch("s3.internal.example"::matches), proxy.nonProxyHosts().toString());
    }

    @Test
    void onlyHttpProxyHost_leavesTheChoiceToTheSdk() {
        assumeTrue(System.getenv("HTTPS_PROXY") == null && System.getenv("https_proxy") == null, "HTTPS_PROXY is set");
        System.setProperty("http.proxyHost", "proxy.corp.example");
        System.setProperty("http.proxyPort", "3128");
        assertTrue(HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT).isEmpty());
    }

    @Test
    void httpsProxyHost_thatIsNoHostName_isAConfigurationExceptionNamingThePropertyAndEndpoint() {
        System.setProperty("https.proxyHost", "proxy corp");
        System.setProperty("https.proxyPort", "3128");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT));
        assertTrue(e.getMessage().contains("https.proxyHost") && e.getMessage().contains(ENDPOINT), e.getMessage());
    }

    @Test
    void httpsProxyVariable_thatIsNoUrl_isAConfigurationException_withoutThePassword() {
        Map<String, String> env = Map.of("HTTPS_PROXY", "http://alice:s3cr3t/x@proxy.corp.example:3128");
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT, env::get));
        assertTrue(e.getMessage().contains("HTTPS_PROXY") && e.getMessage().contains(ENDPOINT), e.getMessage());
        for (Throwable t = e; t != null; t = t.getCause()) {
            assertFalse(String.valueOf(t.getMessage()).contains("s3cr3t"), t.toString());
        }
    }

    @Test
    void httpsProxyVariable_withoutHost_isAConfigurationException_withoutThePassword() {
        Map<String, String> env = Map.of("https_proxy", "http://alice:p@ss@proxy.corp.example:3128");
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT, env::get));
        assertTrue(e.getMessage().contains("https_proxy"), e.getMessage());
        assertFalse(e.getMessage().contains("p@ss"), e.getMessage());
    }

    @Test
    void httpsProxyVariable_isNotChecked_whereAnHttpsPropertyIsSet() {
        System.setProperty("https.proxyHost", "proxy.corp.example");
        System.setProperty("https.proxyPort", "3128");
        Map<String, String> env = Map.of("HTTPS_PROXY", "http://alice:s3cr3t/x@other.example:3128");
        assertEquals("proxy.corp.example", HttpsEndpointProxy.fromJvmAndEnvironment(ENDPOINT, env::get).orElseThrow().host());
    }
}
