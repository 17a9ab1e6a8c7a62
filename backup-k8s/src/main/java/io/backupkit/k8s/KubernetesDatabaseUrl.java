package io.backupkit.k8s;

import io.backupkit.ConfigurationException;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A database inside a Kubernetes pod, as the CLI's {@code --db} and {@code --target} take it:
 * {@code k8s://NAMESPACE/POD[/CONTAINER]?database=NAME}, or with the pod found by labels:
 * {@code k8s://NAMESPACE?selector=cnpg.io/cluster=shop,cnpg.io/instanceRole=primary&database=app}.
 *
 * <p>Query parameters: {@code database} (default postgres), {@code selector}, {@code container},
 * {@code user}, {@code secret} (a Secret in the namespace with keys {@code username} and
 * {@code password}, as CloudNativePG and the Zalando operator write them), {@code port} (the port
 * PostgreSQL listens on in the pod, default 5432) and {@code host} (how the tools in the pod reach
 * it, default localhost; a socket directory such as /var/run/postgresql works too). Passwords never
 * go into the URL.
 *
 * <pre>{@code
 * KubernetesDatabaseUrl u = KubernetesDatabaseUrl.parse("k8s://shop/shop-db-1/postgres?database=shop&secret=shop-app");
 * u.namespace(); // "shop"
 * }</pre>
 */
public final class KubernetesDatabaseUrl {
    /** The scheme. */
    public static final String SCHEME = "k8s://";
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
    private static final Set<String> PARAMS = Set.of("database", "selector", "container", "user", "secret", "port", "host");

    private final String namespace;
    private final String pod;
    private final String container;
    private final String selector;
    private final String database;
    private final String user;
    private final String secret;
    private final int port;
    private final String host;

    private KubernetesDatabaseUrl(String namespace, String pod, String container, String selector, String database, String user,
                                  String secret, int port, String host) {
        this.namespace = namespace;
        this.pod = pod;
        this.container = container;
        this.selector = selector;
        this.database = database;
        this.user = user;
        this.secret = secret;
        this.port = port;
        this.host = host;
    }

    /** Whether {@code url} is a k8s:// URL. */
    public static boolean isKubernetesUrl(String url) {
        return url != null && url.toLowerCase(Locale.ROOT).startsWith(SCHEME);
    }

    public static KubernetesDatabaseUrl parse(String url) {
        if (!isKubernetesUrl(url)) {
            throw new ConfigurationException("not a k8s:// URL: " + url + " (expected k8s://NAMESPACE/POD[/CONTAINER]?database=NAME)");
        }
        String rest = url.substring(SCHEME.length());
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        if (rest.contains("@")) {
            throw new ConfigurationException("k8s:// URLs carry no credentials: give user=NAME, a Secret (secret=NAME), or the "
                    + "password through the environment or a password file");
        }
        String[] path = rest.split("/", -1);
        if (path.length > 3 || (path.length == 3 && path[2].isEmpty() && !rest.endsWith("/"))) {
            throw new ConfigurationException("too many path parts in " + url + " (expected k8s://NAMESPACE/POD[/CONTAINER])");
        }
        String ns = decode(path[0]);
        String pod = path.length > 1 && !path[1].isEmpty() && !path[1].equals("-") ? decode(path[1]) : null;
        String container = path.length > 2 && !path[2].isEmpty() ? decode(path[2]) : null;
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (k.equals("password")) {
                throw new ConfigurationException("a password does not go into a k8s:// URL (it would show in process lists and logs): "
                        + "use secret=NAME or the database password file/environment");
            }
            if (!PARAMS.contains(k)) {
                throw new ConfigurationException("unknown parameter '" + k + "' in " + url + "; known: " + new java.util.TreeSet<>(PARAMS));
            }
            params.put(k, v);
        }
        if (params.containsKey("container")) {
            if (container != null && !container.equals(params.get("container"))) {
                throw new ConfigurationException("two different containers in " + url);
            }
            container = params.get("container");
        }
        String selector = blankToNull(params.get("selector"));
        if (!DNS_LABEL.matcher(ns).matches()) {
            throw new ConfigurationException("'" + ns + "' in " + url + " is not a namespace name (lower-case letters, digits and '-')");
        }
        if (pod == null && selector == null) {
            throw new ConfigurationException("no pod in " + url + ": give k8s://NAMESPACE/POD or k8s://NAMESPACE?selector=LABEL=VALUE");
        }
        if (pod != null && !DNS_SUBDOMAIN.matcher(pod).matches()) {
            throw new ConfigurationException("'" + pod + "' in " + url + " is not a pod name");
        }
        if (container != null && !DNS_LABEL.matcher(container).matches()) {
            throw new ConfigurationException("'" + container + "' in " + url + " is not a container name");
        }
        if (selector != null && !selector.contains("=")) {
            throw new ConfigurationException("selector '" + selector + "' in " + url + " needs LABEL=VALUE terms, e.g. "
                    + "selector=cnpg.io/cluster=shop,cnpg.io/instanceRole=primary");
        }
        int port = 5432;
        if (params.containsKey("port")) {
            try {
                port = Integer.parseInt(params.get("port"));
                if (port < 1 || port > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new ConfigurationException("invalid port '" + params.get("port") + "' in " + url);
            }
        }
        String database = blankToNull(params.get("database"));
        return new KubernetesDatabaseUrl(ns, pod, container, selector, database == null ? "postgres" : database,
                blankToNull(params.get("user")), blankToNull(params.get("secret")), port,
                params.getOrDefault("host", "").isBlank() ? "localhost" : params.get("host"));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/").replace("%3D", "=")
                .replace("%2C", ",");
    }

    public String namespace() {
        return namespace;
    }

    /** The pod name, or null when a selector finds it. */
    public String pod() {
        return pod;
    }

    /** The container, or null for the pod's default. */
    public String container() {
        return container;
    }

    /** The label selector, or null. */
    public String selector() {
        return selector;
    }

    public String database() {
        return database;
    }

    /** The login role, or null (the Secret's, or the tools' default). */
    public String user() {
        return user;
    }

    /** The Secret with username and password keys, or null. */
    public String secret() {
        return secret;
    }

    /** The port PostgreSQL listens on in the pod. */
    public int port() {
        return port;
    }

    /** How the tools in the pod reach PostgreSQL (localhost, or a socket directory). */
    public String host() {
        return host;
    }

    /** The same URL with another database. */
    public KubernetesDatabaseUrl withDatabase(String db) {
        return new KubernetesDatabaseUrl(namespace, pod, container, selector, Objects.requireNonNull(db), user, secret, port, host);
    }

    /** The canonical form; holds no secret. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(SCHEME).append(namespace);
        if (pod != null) {
            sb.append('/').append(pod);
        } else if (container != null) {
            sb.append("/-");
        }
        if (container != null) {
            sb.append('/').append(container);
        }
        sb.append("?database=").append(encode(database));
        if (selector != null) {
            sb.append("&selector=").append(encode(selector));
        }
        if (user != null) {
            sb.append("&user=").append(encode(user));
        }
        if (secret != null) {
            sb.append("&secret=").append(encode(secret));
        }
        if (port != 5432) {
            sb.append("&port=").append(port);
        }
        if (!host.equals("localhost")) {
            sb.append("&host=").append(encode(host));
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KubernetesDatabaseUrl u && toString().equals(u.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
