package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.KubernetesErrors;
import io.backupkit.spi.JobLock;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link JobLock} on {@code coordination.k8s.io/v1} Leases (fabric8's LeaderElector on a
 * LeaseLock), so only one replica of an embedding service runs a scheduled job at a time. One Lease
 * per job, named {@code backupkit-<job>}. A holder renews its Lease every ttl/6 while it holds it.
 *
 * <p>A holder that cannot renew (API server unreachable, RBAC changed, another holder took the
 * Lease) sees {@link Lease#isHeld()} turn false no later than 2/3 of the ttl after its last
 * successful renewal, while another replica can take the Lease only once the full ttl has passed:
 * it stops before its next write before anyone else starts, provided the clocks of the replicas
 * differ by less than a third of the ttl.
 *
 * <pre>{@code
 * JobLock lock = KubernetesLeaseJobLock.builder().namespace("shop").build();
 * try (JobLock.Lease lease = lock.tryAcquire("nightly-shop", Duration.ofMinutes(2)).orElse(null)) {
 *     if (lease == null) return;   // another replica runs it
 *     ... before each write: if (!lease.isHeld()) throw …
 * }
 * }</pre>
 *
 * <p>Needs RBAC {@code get}, {@code create}, {@code update} and {@code patch} on
 * {@code leases.coordination.k8s.io} in the namespace.
 */
public final class KubernetesLeaseJobLock implements JobLock, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesLeaseJobLock.class);
    private static final String PREFIX = "backupkit-";

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final String identity;

    private KubernetesLeaseJobLock(Builder b) {
        if (b.namespace == null || b.namespace.isBlank()) {
            throw new ConfigurationException("KubernetesLeaseJobLock needs a namespace");
        }
        this.ownsClient = b.client == null;
        this.client = b.client != null ? b.client : new KubernetesClientBuilder().build();
        this.namespace = b.namespace;
        this.identity = b.identity != null ? b.identity : defaultIdentity();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The pod name (HOSTNAME in a pod) plus a random suffix: two lockers in one process are two holders. */
    private static String defaultIdentity() {
        String host = System.getenv("HOSTNAME");
        if (host == null || host.isBlank()) {
            try {
                host = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                host = "backupkit";
            }
        }
        return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The identity written into the Leases this lock holds. */
    public String identity() {
        return identity;
    }

    /** The Lease name for a job: {@code backupkit-} plus the name in DNS form, with a hash when it had to be changed. */
    public static String leaseName(String jobName) {
        if (jobName == null || jobName.isBlank()) {
            throw new ConfigurationException("job name must not be blank");
        }
        String lower = jobName.toLowerCase(Locale.ROOT);
        String clean = lower.replaceAll("[^a-z0-9.-]+", "-").replaceAll("^[-.]+|[-.]+$", "");
        String name = PREFIX + clean;
        if (!clean.equals(jobName) || name.length() > 253) {
            // different job names must not share a Lease after cleaning
            name = PREFIX + clean.substring(0, Math.min(clean.length(), 200)) + (clean.isEmpty() ? "" : "-") + shortHash(jobName);
        }
        return name;
    }

    private static String shortHash(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))).substring(0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Optional<JobLock.Lease> tryAcquire(String jobName, Duration ttl) {
        if (ttl == null || ttl.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new ConfigurationException("the lock ttl must be at least 1 s (Leases count whole seconds), was " + ttl);
        }
        String name = leaseName(jobName);
        Duration lease = Duration.ofSeconds((ttl.toMillis() + 999) / 1000);
        Duration renewDeadline = lease.multipliedBy(2).dividedBy(3);
        Duration retry = lease.dividedBy(6);
        AtomicBoolean lost = new AtomicBoolean();
        TrackingLock lock = new TrackingLock(new LeaseLock(namespace, name, identity), renewDeadline, lost);
        LeaderElectionRecord current;
        try {
            current = lock.get(client);
        } catch (KubernetesClientException e) {
            throw KubernetesErrors.translate(e, "get", "leases", namespace, "lease " + name);
        }
        if (heldByAnother(current)) {
            return Optional.empty();
        }
        AtomicBoolean leading = new AtomicBoolean();
        CompletableFuture<Boolean> acquired = new CompletableFuture<>();
        lock.firstAttemptFailed = acquired;
        LeaderCallbacks callbacks = new LeaderCallbacks(() -> {
            leading.set(true);
            acquired.complete(true);
        }, () -> {
            if (leading.get()) {
                lost.set(true);
                LOG.info("lease {} in namespace {} is no longer held by {}", name, namespace, identity);
            }
            acquired.complete(false);
        }, newLeader -> {
        });
        LeaderElectionConfig config = new LeaderElectionConfig(lock, lease, renewDeadline, retry, callbacks, true, name);
        Future<?> running = client.leaderElector().withConfig(config).build().start();
        boolean got;
        try {
            got = acquired.get(retry.toMillis() * 3 + 30_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.cancel(true);
            return Optional.empty();
        } catch (Exception e) {
            got = false;
        }
        if (!got) {
            running.cancel(true);
            KubernetesClientException failure = lock.failure.get();
            if (failure != null && failure.getCode() != 409) {
                throw KubernetesErrors.translate(failure, lock.failedVerb.get(), "leases", namespace, "lease " + name);
            }
            return Optional.empty();
        }
        return Optional.of(new Held(name, running, leading, lost, lock, renewDeadline));
    }

    private boolean heldByAnother(LeaderElectionRecord r) {
        if (r == null || r.getHolderIdentity() == null || r.getHolderIdentity().isEmpty() || identity.equals(r.getHolderIdentity())) {
            return false;
        }
        return r.getRenewTime() != null && ZonedDateTime.now(ZoneOffset.UTC).isBefore(r.getRenewTime().plus(r.getLeaseDuration()));
    }

    /** Closes the Kubernetes client if this lock created it; held Leases should be closed first. */
    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "KubernetesLeaseJobLock[" + namespace + ", " + identity + "]";
    }

    /** A held Lease: renewed by the elector until closed. */
    private final class Held implements JobLock.Lease {
        private final String name;
        private final Future<?> running;
        private final AtomicBoolean leading;
        private final AtomicBoolean lost;
        private final TrackingLock lock;
        private final long validNanos;
        private final AtomicBoolean closed = new AtomicBoolean();

        Held(String name, Future<?> running, AtomicBoolean leading, AtomicBoolean lost, TrackingLock lock, Duration renewDeadline) {
            this.name = name;
            this.running = running;
            this.leading = leading;
            this.lost = lost;
            this.lock = lock;
            this.validNanos = renewDeadline.toNanos();
        }

        @Override
        public boolean isHeld() {
            // the local clock decides too: even if the elector's thread is late, a holder that has not renewed
            // for the renew deadline stops, while others must wait the whole lease duration; and lost stays lost
            if (System.nanoTime() - lock.lastRenewNanos.get() >= validNanos) {
                lost.set(true);
            }
            return !closed.get() && leading.get() && !lost.get() && !running.isDone();
        }

        @Override
        public void close() {
            boolean wasHeld = isHeld();
            if (closed.compareAndSet(false, true)) {
                try {
                    running.cancel(true); // the elector shortens the Lease to 1 s (releaseOnCancel)
                    if (wasHeld) {
                        clearHolder();
                    }
                } catch (RuntimeException e) {
                    LOG.warn("releasing lease {} in namespace {} failed; it expires on its own: {}", name, namespace, e.getMessage());
                }
            }
        }

        /**
         * The elector's release sends the holder as null in a merge patch, which leaves the field as it
         * was: clear it, so the next holder need not wait for the shortened Lease to run out. Only while
         * it is still ours (the update carries the resourceVersion read, so a concurrent change wins).
         */
        private void clearHolder() {
            io.fabric8.kubernetes.api.model.coordination.v1.Lease l = client.leases().inNamespace(namespace).withName(name).get();
            if (l != null && l.getSpec() != null && identity.equals(l.getSpec().getHolderIdentity())) {
                l.getSpec().setHolderIdentity("");
                try {
                    client.leases().inNamespace(namespace).resource(l).update();
                } catch (KubernetesClientException e) {
                    LOG.debug("lease {} changed while being released: {}", name, e.getMessage());
                }
            }
        }

        @Override
        public String toString() {
            return "Lease[" + namespace + "/" + name + ", " + identity + (isHeld() ? ", held" : ", not held") + "]";
        }
    }

    /**
     * The LeaseLock, noting when this holder last wrote the Lease successfully, and ending a
     * {@code tryAcquire} after one attempt (the elector itself would retry for ever).
     */
    private static final class TrackingLock implements Lock {
        private final Lock delegate;
        private final long validNanos;
        private final AtomicBoolean lost;
        static final long INITIAL = Long.MIN_VALUE / 2;
        final AtomicLong lastRenewNanos = new AtomicLong(INITIAL);
        final AtomicReference<KubernetesClientException> failure = new AtomicReference<>();
        final AtomicReference<String> failedVerb = new AtomicReference<>("update");
        private final AtomicInteger gets = new AtomicInteger();
        volatile CompletableFuture<Boolean> firstAttemptFailed;

        TrackingLock(Lock delegate, Duration renewDeadline, AtomicBoolean lost) {
            this.delegate = delegate;
            this.validNanos = renewDeadline.toNanos();
            this.lost = lost;
        }

        private volatile boolean abandoned;

        @Override
        public LeaderElectionRecord get(KubernetesClient client) {
            // the elector's acquire loop reads before each attempt: a second attempt means the first failed, and
            // tryAcquire tries once: from then on this lock must not be taken behind the caller's back
            if (gets.incrementAndGet() > 2 && firstAttemptFailed != null && !firstAttemptFailed.isDone()) {
                abandoned = true;
                firstAttemptFailed.complete(false);
            }
            return delegate.get(client);
        }

        private void checkNotAbandoned(LeaderElectionRecord record) {
            if (!Objects.equals(record.getHolderIdentity(), delegate.identity())) {
                return; // releasing
            }
            if (abandoned) {
                throw new KubernetesClientException("tryAcquire gave up on " + delegate.describe(), 409, null);
            }
            if (lastRenewNanos.get() != INITIAL && System.nanoTime() - lastRenewNanos.get() >= validNanos) {
                // the holder already let go (isHeld() is false): renewing now would take the lock back behind its back
                lost.set(true);
                throw new KubernetesClientException("the lease " + delegate.describe() + " lapsed before it could be renewed", 409, null);
            }
        }

        @Override
        public void create(KubernetesClient client, LeaderElectionRecord record) {
            checkNotAbandoned(record);
            long start = System.nanoTime();
            try {
                delegate.create(client, record);
                renewed(record, start);
            } catch (KubernetesClientException e) {
                failure.set(e);
                failedVerb.set("create");
                throw e;
            }
        }

        @Override
        public void update(KubernetesClient client, LeaderElectionRecord record) {
            checkNotAbandoned(record);
            long start = System.nanoTime();
            try {
                delegate.update(client, record);
                renewed(record, start);
            } catch (KubernetesClientException e) {
                failure.set(e);
                failedVerb.set("patch");
                throw e;
            }
        }

        private void renewed(LeaderElectionRecord record, long start) {
            if (Objects.equals(record.getHolderIdentity(), delegate.identity())) {
                lastRenewNanos.set(start);
            }
        }

        @Override
        public String identity() {
            return delegate.identity();
        }

        @Override
        public String describe() {
            return delegate.describe();
        }
    }

    /** Configures a {@link KubernetesLeaseJobLock}. Not thread-safe. */
    public static final class Builder {
        private KubernetesClient client;
        private String namespace;
        private String identity;

        private Builder() {
        }

        /** The client (never closed by the lock); default: one from kubeconfig or the service account. */
        public Builder client(KubernetesClient client) {
            this.client = client;
            return this;
        }

        /** The namespace of the Leases (usually the embedding service's own). */
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        /** The holder identity (default: HOSTNAME, which is the pod name, plus a random suffix). */
        public Builder identity(String identity) {
            this.identity = identity;
            return this;
        }

        public KubernetesLeaseJobLock build() {
            return new KubernetesLeaseJobLock(this);
        }
    }
}
