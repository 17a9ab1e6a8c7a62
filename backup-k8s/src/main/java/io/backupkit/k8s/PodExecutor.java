package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.ExecContext;
import io.backupkit.k8s.internal.PodProcess;
import io.backupkit.k8s.internal.PodResolver;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link CommandExecutor} that runs engine tools (pg_dump, psql, pg_restore, pg_basebackup) inside
 * a container of a Kubernetes pod over exec connections: stdout streams into the backup pipeline,
 * stdin streams from the restore, stderr and the exit status come back, and a command that fails,
 * times out or is destroyed is stopped in the pod (TERM, then KILL). Environment values (PGPASSWORD)
 * travel inside the connection, never in the exec URL.
 *
 * <p>The pod is given by name or found by a label selector that must match exactly one ready pod
 * (the primary of a CloudNativePG cluster: {@code cnpg.io/cluster=shop,cnpg.io/instanceRole=primary}).
 * It is resolved and checked (exists, Running, Ready, container present) on first use and then
 * kept: build a new executor per backup to follow a failover.
 *
 * <pre>{@code
 * try (PodExecutor pod = PodExecutor.builder().namespace("shop").selector("cnpg.io/cluster=shop,cnpg.io/instanceRole=primary")
 *         .container("postgres").build()) {
 *     BackupManager.builder().repository(repo).source(source).commandExecutor(pod).build().backup();
 * }
 * }</pre>
 *
 * <p>The tools reach the database from inside the pod: with a {@code PostgresSource} or
 * {@code PostgresTarget} of your own, set their {@code toolAddress("localhost", 5432)} (and give
 * JDBC a port-forward), or use {@link KubernetesPostgres}, which does both.
 *
 * <p>Needs RBAC {@code get} and {@code list} on {@code pods} and {@code get}+{@code create} on
 * {@code pods/exec} in the namespace; the container needs {@code sh} and {@code dd}. Thread-safe;
 * one executor runs many commands at once.
 */
public final class PodExecutor implements CommandExecutor, AutoCloseable {
    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String pod;
    private final String selector;
    private final String container;
    private final Duration commandTimeout;
    private final Duration startTimeout;
    private final Duration killGrace;
    private final ScheduledExecutorService scheduler;
    private volatile PodResolver.ResolvedPod resolved;

    private PodExecutor(Builder b) {
        if (b.namespace == null || b.namespace.isBlank()) {
            throw new ConfigurationException("PodExecutor needs a namespace");
        }
        if (b.pod == null && b.selector == null) {
            throw new ConfigurationException("PodExecutor needs a pod name or a label selector");
        }
        this.ownsClient = b.client == null;
        this.client = b.client != null ? b.client : new KubernetesClientBuilder().build();
        this.namespace = b.namespace;
        this.pod = b.pod;
        this.selector = b.selector;
        this.container = b.container;
        this.commandTimeout = b.commandTimeout;
        this.startTimeout = b.startTimeout;
        this.killGrace = b.killGrace;
        AtomicInteger n = new AtomicInteger();
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(2, r -> {
            Thread t = new Thread(r, "backupkit-pod-exec-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        s.setRemoveOnCancelPolicy(true);
        this.scheduler = Executors.unconfigurableScheduledExecutorService(s);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** An executor for a pod that was already resolved (one operation of {@link KubernetesPostgres}). */
    static PodExecutor forResolved(KubernetesClient client, PodResolver.ResolvedPod pod, Duration commandTimeout) {
        Builder b = builder().client(client).namespace(pod.namespace()).pod(pod.pod()).container(pod.container());
        if (commandTimeout != null) {
            b.commandTimeout(commandTimeout);
        }
        PodExecutor e = b.build();
        e.resolved = pod;
        return e;
    }

    /**
     * Finds and checks the pod now (instead of at the first command) and returns its name.
     *
     * @throws ConfigurationException          when the pod or container does not exist or the selector is ambiguous
     * @throws KubernetesException             when the pod is not ready or the API server cannot be reached
     * @throws KubernetesAccessDeniedException when RBAC forbids reading pods
     */
    public String resolve() {
        return target().pod();
    }

    /** The container commands run in (resolved: the default container when none was given). */
    public String container() {
        return target().container();
    }

    /** The namespace. */
    public String namespace() {
        return namespace;
    }

    private PodResolver.ResolvedPod target() {
        PodResolver.ResolvedPod r = resolved;
        if (r == null) {
            synchronized (this) {
                r = resolved;
                if (r == null) {
                    r = PodResolver.resolve(client, namespace, pod, selector, container);
                    resolved = r;
                }
            }
        }
        return r;
    }

    @Override
    public RunningCommand start(CommandSpec spec) {
        return PodProcess.start(new ExecContext(client, target(), commandTimeout, startTimeout, killGrace, scheduler), spec);
    }

    @Override
    public String describe() {
        PodResolver.ResolvedPod r = resolved;
        if (r != null) {
            return r.describe();
        }
        return (pod != null ? "pod " + pod : "the pod selected by " + selector) + (container != null ? " (container " + container + ")" : "")
                + " in namespace " + namespace;
    }

    @Override
    public String toString() {
        return "PodExecutor[" + describe() + "]";
    }

    /** Stops the timer thread; closes the Kubernetes client if this executor created it. */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsClient) {
            client.close();
        }
    }

    /** Configures a {@link PodExecutor}. Not thread-safe. */
    public static final class Builder {
        private KubernetesClient client;
        private String namespace;
        private String pod;
        private String selector;
        private String container;
        private Duration commandTimeout;
        private Duration startTimeout = Duration.ofSeconds(60);
        private Duration killGrace = Duration.ofSeconds(10);

        private Builder() {
        }

        /** The client to use (never closed by the executor); default: one configured from kubeconfig or the service account. */
        public Builder client(KubernetesClient client) {
            this.client = client;
            return this;
        }

        public Builder namespace(String namespace) {
            this.namespace = Objects.requireNonNull(namespace, "namespace");
            return this;
        }

        /** The pod by name. */
        public Builder pod(String name) {
            this.pod = name;
            return this;
        }

        /** A label selector ({@code app=db,role=primary}) that matches exactly one ready pod. */
        public Builder selector(String labelSelector) {
            this.selector = labelSelector;
            return this;
        }

        /** The container (default: the pod's default container, else one named postgres, else the first). */
        public Builder container(String name) {
            this.container = name;
            return this;
        }

        /** Longest a single command may run; it is then stopped and reported as failed. Default: no limit. */
        public Builder commandTimeout(Duration timeout) {
            this.commandTimeout = positive(timeout, "commandTimeout");
            return this;
        }

        /** How long to wait for a command to start in the pod (default 60 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = positive(timeout, "startTimeout");
            return this;
        }

        /** Time between TERM and KILL when a command is stopped (default 10 s). */
        public Builder killGracePeriod(Duration grace) {
            this.killGrace = positive(grace, "killGracePeriod");
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigurationException(what + " must be positive, was " + d);
            }
            return d;
        }

        public PodExecutor build() {
            return new PodExecutor(this);
        }
    }
}
