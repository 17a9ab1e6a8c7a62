package io.backupkit.s3.internal;

import io.backupkit.ConfigurationException;
import software.amazon.awssdk.http.apache5.ProxyConfiguration;

import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The forward proxy of a client whose endpoint is {@code https} (AWS itself, or an {@code https://} endpoint override),
 * chosen as the JVM's own {@code https} connections, curl, the AWS CLI and restic choose it: {@code https.proxyHost} and
 * {@code https.proxyPort} (443 if not set, as in the JVM; {@code https.proxyUser} / {@code https.proxyPassword} if
 * the proxy wants a login), else the {@code HTTPS_PROXY} or {@code https_proxy} environment variable. Hosts in
 * {@code http.nonProxyHosts} (else {@code NO_PROXY} / {@code no_proxy}) are reached directly. Where none of these is
 * set, the SDK's own choice stands, as before they were read: {@code http.proxyHost} / {@code HTTP_PROXY} for every
 * endpoint (a setup that proxies https through them keeps working). The proxy is spoken to in plain HTTP and tunnels
 * the TLS connection with CONNECT, as the JVM and curl do with an {@code http://} proxy; one spoken to over TLS cannot
 * be configured (the scheme of an {@code HTTPS_PROXY} URL is not read).
 *
 * <p>Why not the SDK's default: its HTTP client reads {@code http.proxyHost} / {@code HTTP_PROXY} for every endpoint
 * and never {@code https.proxyHost}, so the usual JVM setting for proxying {@code https} silently connected directly.
 * The SDK's {@code ProxyConfiguration.scheme("https")}, its one way to read the {@code https} settings, also makes the
 * client speak TLS to the proxy; so they are read with that scheme and handed back as an {@code http://host:port} proxy.
 *
 * <pre>{@code
 * HttpsEndpointProxy.fromJvmAndEnvironment("https://s3.example.com").ifPresent(apache5ClientBuilder::proxyConfiguration);
 * }</pre>
 */
public final class HttpsEndpointProxy {
    /** The JVM's {@code https.proxyPort} when only {@code https.proxyHost} is set. */
    private static final int DEFAULT_PORT = 443;

    private HttpsEndpointProxy() {
    }

    /**
     * The https proxy for an {@code https} endpoint; empty where none is set (the SDK's own choice then stands). Read
     * now, as the SDK reads its own settings when a client is built.
     *
     * @param endpoint the endpoint, for messages only
     * @throws ConfigurationException if {@code https.proxyHost} is no host name, or {@code HTTPS_PROXY} is no URL or
     *                                has no host or port
     */
    public static Optional<ProxyConfiguration> fromJvmAndEnvironment(String endpoint) {
        return fromJvmAndEnvironment(endpoint, System::getenv);
    }

    /** As {@link #fromJvmAndEnvironment(String)}, with {@code env} for the check of the environment variable (tests). */
    static Optional<ProxyConfiguration> fromJvmAndEnvironment(String endpoint, UnaryOperator<String> env) {
        if (noHttpsProperty()) {
            checkEnvironmentVariable(endpoint, env);
        }
        ProxyConfiguration configured = ProxyConfiguration.builder().scheme("https").build();
        String host = configured.host();
        if (host == null || host.isBlank()) {
            return Optional.empty();
        }
        boolean fromProperty = System.getProperty("https.proxyHost") != null;
        int port = configured.port();
        if (port <= 0 && fromProperty) {
            port = DEFAULT_PORT;
        } else if (port <= 0) {
            throw new ConfigurationException("HTTPS_PROXY names proxy host " + host + " without a port, for S3 endpoint "
                    + endpoint + "; add the port (http://" + host + ":3128) or set https.proxyHost and https.proxyPort");
        }
        URI proxy;
        try {
            proxy = new URI("http", null, host, port, null, null, null);
        } catch (URISyntaxException e) {
            throw new ConfigurationException("proxy host '" + host + "' from " + (fromProperty ? "https.proxyHost" : "HTTPS_PROXY")
                    + " is no host name, for S3 endpoint " + endpoint + "; fix or unset it", e);
        }
        return Optional.of(ProxyConfiguration.builder()
                .useSystemPropertyValues(false)
                .useEnvironmentVariableValues(false)
                .endpoint(proxy)
                .username(configured.username())
                .password(configured.password())
                .nonProxyHosts(configured.nonProxyHosts())
                .build());
    }

    /** Whether the SDK would read the environment: none of the https proxy properties nor http.nonProxyHosts is set. */
    private static boolean noHttpsProperty() {
        ProxyConfiguration properties = ProxyConfiguration.builder().scheme("https").useEnvironmentVariableValues(false).build();
        return properties.host() == null && properties.port() == 0 && properties.username() == null
                && properties.password() == null && properties.nonProxyHosts().isEmpty();
    }

    /**
     * Refuses an {@code https_proxy} / {@code HTTPS_PROXY} (read in that order, as the SDK does) that is no URL or names no
     * host, before the SDK reads it. Why: the SDK logs a warning with the {@code MalformedURLException}, whose message can
     * hold the password (a {@code /} or {@code #} in it ends the host part: {@code Error at index 0 in: "secret"}), and
     * then connects directly. Neither the value nor that exception goes into the message.
     */
    private static void checkEnvironmentVariable(String endpoint, UnaryOperator<String> env) {
        String name = "https_proxy";
        String value = env.apply(name);
        if (value == null) {
            name = "HTTPS_PROXY";
            value = env.apply(name);
        }
        if (value == null || value.isBlank()) {
            return;
        }
        String host;
        try {
            host = new URL(value.trim()).getHost();
        } catch (MalformedURLException e) {
            host = null;
        }
        if (host == null || host.isEmpty()) {
            // the SDK does not percent-decode a login, so a password with / # ? or @ cannot be written in the URL at all
            throw new ConfigurationException("environment variable " + name + " is no proxy URL with a host, for S3 endpoint "
                    + endpoint + "; write it as http://host:port (a password with / # ? or @ cannot be given in it: set"
                    + " https.proxyHost, https.proxyPort, https.proxyUser and https.proxyPassword instead), or unset it");
        }
    }
}
