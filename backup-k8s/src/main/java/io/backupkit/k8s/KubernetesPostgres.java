package io.backupkit.k8s;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.k8s.internal.PodResolver;
import io.backupkit.k8s.internal.PortForwardTunnel;
import io.backupkit.postgres.PostgresEngine;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A PostgreSQL database inside a Kubernetes pod, backed up and restored with no port exposed:
 * pg_dump, psql and pg_restore run in the database container through exec ({@link PodExecutor}),
 * and the JDBC connection the engine also needs (snapshot export, catalog, creating the target
 * database) goes through a port-forward to the pod via the API server. Each backup or restore
 * resolves the pod anew (so a selector follows a failover between runs), reads credentials from a
 * Secret if one is named, and closes its connections at the end.
 *
 * <pre>{@code
 * KubernetesPostgres shop = KubernetesPostgres.builder()
 *         .namespace("shop").selector("cnpg.io/cluster=shop,cnpg.io/instanceRole=primary").container("postgres")
 *         .database("shop").credentialsSecret("shop-app")
 *         .build();                                   // or KubernetesPostgres.fromUrl("k8s://shop?selector=…&database=shop&secret=shop-app")
 * BackupManager.builder().repository(repo).source(shop.source()).build().backup();
 * RestoreManager.builder().repository(repo).snapshot("latest")
 *         .target(KubernetesPostgres.fromUrl("k8s://staging/pg-0?database=shop_copy").target()).build().restore();
 * }</pre>
 *
 * <p>The snapshots are ordinary PostgreSQL snapshots: one taken here restores into a database
 * outside Kubernetes and the other way round. RBAC needed in the namespace: {@code get}/{@code list}
 * pods, {@code create} pods/exec and pods/portforward, and {@code get} on the credentials Secret.
 */
public final class KubernetesPostgres {
    private final KubernetesDatabaseUrl url;
    private final KubernetesClient client;
    private final String user;
    private final char[] password;
    private final Duration commandTimeout;

    private KubernetesPostgres(Builder b) {
        KubernetesDatabaseUrl u;
        if (b.url != null) {
            u = KubernetesDatabaseUrl.parse(b.url);
        } else {
            if (b.namespace == null) {
                throw new ConfigurationException("KubernetesPostgres needs a namespace (or a k8s:// URL)");
            }
            StringBuilder sb = new StringBuilder(KubernetesDatabaseUrl.SCHEME).append(b.namespace);
            sb.append('/').append(b.pod != null ? b.pod : "-");
            if (b.container != null) {
                sb.append('/').append(b.container);
            }
            sb.append("?database=").append(enc(b.database != null ? b.database : "postgres"));
            if (b.selector != null) {
                sb.append("&selector=").append(enc(b.selector));
            }
            if (b.secret != null) {
                sb.append("&secret=").append(enc(b.secret));
            }
            sb.append("&port=").append(b.port).append("&host=").append(enc(b.host));
            u = KubernetesDatabaseUrl.parse(sb.toString());
        }
        if (b.database != null && b.url != null) {
            u = u.withDatabase(b.database);
        }
        this.url = u;
        this.client = b.client;
        this.user = b.user != null ? b.user : u.user();
        this.password = b.password;
        this.commandTimeout = b.commandTimeout;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** From a {@code k8s://NAMESPACE/POD[/CONTAINER]?database=NAME} URL (see {@link KubernetesDatabaseUrl}). */
    public static KubernetesPostgres fromUrl(String url) {
        return builder().url(url).build();
    }

    /** Where the database is, as a k8s:// URL without secrets. */
    public KubernetesDatabaseUrl url() {
        return url;
    }

    /** A source with the PostgreSQL engine's defaults. */
    public BackupSource source() {
        return source(Map.of());
    }

    /**
     * A source with PostgreSQL engine options ({@code jobs}, {@code user}, {@code password},
     * {@code toolDirectory}: a directory inside the container; see {@link PostgresEngine}).
     */
    public BackupSource source(Map<String, String> options) {
        Map<String, String> o = checked(options);
        return new Source(o);
    }

    /** A target with the PostgreSQL engine's defaults (a new database named by the URL). */
    public RestoreTarget target() {
        return target(Map.of());
    }

    /** A target with PostgreSQL engine options ({@code dropExisting}, {@code tables}, {@code schemaOnly}, …). */
    public RestoreTarget target(Map<String, String> options) {
        return new Target(checked(options));
    }

    private static Map<String, String> checked(Map<String, String> options) {
        for (String k : List.of("toolHost", "toolPort")) {
            if (options.containsKey(k)) {
                throw new ConfigurationException("option " + k + " is set by the k8s:// URL (host=, port=), not as an option");
            }
        }
        return Map.copyOf(options);
    }

    /** One operation's connections to the cluster: pod, credentials, exec, port-forward. */
    private final class Session implements AutoCloseable {
        final KubernetesClient k8s;
        final boolean ownsClient;
        final PodResolver.ResolvedPod pod;
        final PortForwardTunnel tunnel;
        final PodExecutor executor;
        final Map<String, String> options;

        Session(Map<String, String> engineOptions) {
            this.ownsClient = client == null;
            this.k8s = client != null ? client : new KubernetesClientBuilder().build();
            PodResolver.ResolvedPod p = null;
            PortForwardTunnel t = null;
            PodExecutor e = null;
            Map<String, String> o = new LinkedHashMap<>();
            try {
                p = PodResolver.resolve(k8s, url.namespace(), url.pod(), url.selector(), url.container());
                if (url.secret() != null) {
                    SecretCredentials c = SecretCredentials.read(k8s, url.namespace(), url.secret());
                    if (c.user() != null) {
                        o.put("user", c.user());
                    }
                    char[] pw = c.password();
                    o.put("password", new String(pw));
                    Arrays.fill(pw, '\0');
                }
                if (user != null) {
                    o.put("user", user);
                }
                if (password != null) {
                    o.put("password", new String(password));
                }
                o.putAll(engineOptions);
                o.put("toolHost", url.host());
                o.put("toolPort", Integer.toString(url.port()));
                t = PortForwardTunnel.open(k8s, p, url.port(), Duration.ofSeconds(30));
                e = PodExecutor.forResolved(k8s, p, commandTimeout);
            } catch (RuntimeException ex) {
                if (t != null) {
                    t.close();
                }
                if (ownsClient) {
                    k8s.close();
                }
                throw ex;
            }
            this.pod = p;
            this.tunnel = t;
            this.executor = e;
            this.options = o;
        }

        /** The engine's URL: JDBC through the tunnel; the tools use toolHost/toolPort in the pod. */
        String jdbcSide() {
            return "postgresql://127.0.0.1:" + tunnel.localPort() + "/" + enc(url.database());
        }

        /** A failure of the port-forward explains a JDBC error better than the driver can. */
        BackupException explain(BackupException e) {
            return tunnel.failure().map(f -> {
                if (f != e) {
                    f.addSuppressed(e);
                }
                return f;
            }).orElse(e);
        }

        @Override
        public void close() {
            executor.close();
            tunnel.close();
            if (ownsClient) {
                k8s.close();
            }
        }
    }

    private <T> T withSession(Map<String, String> options, Function<Session, T> work) {
        try (Session s = new Session(options)) {
            try {
                return work.apply(s);
            } catch (BackupException e) {
                throw s.explain(e);
            }
        }
    }

    private String describeTarget() {
        return url.toString();
    }

    private final class Source implements BackupSource {
        private final Map<String, String> options;

        Source(Map<String, String> options) {
            this.options = options;
        }

        @Override
        public String engine() {
            return PostgresEngine.NAME;
        }

        @Override
        public String describe() {
            return describeTarget();
        }

        @Override
        public void backup(BackupContext context) {
            withSession(options, s -> {
                BackupSource pg = new PostgresEngine().source(s.jdbcSide(), s.options);
                pg.backup(new PodBackupContext(context, s.executor));
                return null;
            });
        }

        @Override
        public String toString() {
            return "KubernetesPostgres.Source[" + describe() + "]";
        }
    }

    private final class Target implements RestoreTarget {
        private final Map<String, String> options;

        Target(Map<String, String> options) {
            this.options = options;
        }

        @Override
        public String engine() {
            return PostgresEngine.NAME;
        }

        @Override
        public String describe() {
            return describeTarget();
        }

        private RestoreTarget pg(Session s) {
            return new PostgresEngine().target(s.jdbcSide(), s.options);
        }

        @Override
        public RestorePlan plan(RestoreContext context) {
            return withSession(options, s -> {
                RestorePlan p = pg(s).plan(new PodRestoreContext(context, s.executor));
                return new RestorePlan(describeTarget() + " on " + s.pod.describe(), p.actions(), p.bytes());
            });
        }

        @Override
        public void restore(RestoreContext context) {
            withSession(options, s -> {
                pg(s).restore(new PodRestoreContext(context, s.executor));
                return null;
            });
        }

        @Override
        public List<VerificationCheck> verifyByRestore(RestoreContext context) {
            return withSession(options, s -> pg(s).verifyByRestore(new PodRestoreContext(context, s.executor)));
        }

        @Override
        public String toString() {
            return "KubernetesPostgres.Target[" + describe() + "]";
        }
    }

    /** The caller's context, with the tools running in the pod. */
    private record PodBackupContext(BackupContext delegate, CommandExecutor executor) implements BackupContext {
        @Override
        public int parallelism() {
            return delegate.parallelism();
        }

        @Override
        public CommandExecutor commandExecutor() {
            return executor;
        }

        @Override
        public OutputStream newStream(String name) {
            return delegate.newStream(name);
        }

        @Override
        public void putMetadata(String key, Object value) {
            delegate.putMetadata(key, value);
        }

        @Override
        public void expectedBytes(long bytes) {
            delegate.expectedBytes(bytes);
        }
    }

    private record PodRestoreContext(RestoreContext delegate, CommandExecutor executor) implements RestoreContext {
        @Override
        public Snapshot snapshot() {
            return delegate.snapshot();
        }

        @Override
        public InputStream openStream(String name) {
            return delegate.openStream(name);
        }

        @Override
        public int parallelism() {
            return delegate.parallelism();
        }

        @Override
        public CommandExecutor commandExecutor() {
            return executor;
        }
    }

    /** Configures a {@link KubernetesPostgres}. Not thread-safe. */
    public static final class Builder {
        private String url;
        private KubernetesClient client;
        private String namespace;
        private String pod;
        private String selector;
        private String container;
        private String database;
        private String secret;
        private String user;
        private char[] password;
        private int port = 5432;
        private String host = "localhost";
        private Duration commandTimeout;

        private Builder() {
        }

        /** Everything from a k8s:// URL; the other setters are for building without one. */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url, "url");
            return this;
        }

        /** The client to use (never closed here); default: one per operation from kubeconfig or the service account. */
        public Builder client(KubernetesClient client) {
            this.client = client;
            return this;
        }

        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder pod(String pod) {
            this.pod = pod;
            return this;
        }

        /** A label selector matching exactly one ready pod, e.g. {@code cnpg.io/cluster=shop,cnpg.io/instanceRole=primary}. */
        public Builder selector(String selector) {
            this.selector = selector;
            return this;
        }

        public Builder container(String container) {
            this.container = container;
            return this;
        }

        /** The database: backed up, or created by a restore (default postgres). */
        public Builder database(String database) {
            this.database = database;
            return this;
        }

        /** A Secret in the namespace whose {@code username} and {@code password} keys log in. */
        public Builder credentialsSecret(String secret) {
            this.secret = secret;
            return this;
        }

        /** Login role (wins over the Secret's). */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password (wins over the Secret's); copied; reaches the tools only through the exec stream. */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** The port PostgreSQL listens on in the pod (default 5432). */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** How the tools in the pod reach PostgreSQL: localhost (default) or a socket directory. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** Longest a single tool may run in the pod before it is stopped (default: no limit). */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = timeout;
            return this;
        }

        public KubernetesPostgres build() {
            return new KubernetesPostgres(this);
        }
    }
}
