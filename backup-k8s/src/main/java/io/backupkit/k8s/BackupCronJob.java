package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.JobPods;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.CronJobBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A {@code batch/v1} CronJob that runs {@code backupkit backup} on a schedule: one run at a time
 * ({@code concurrencyPolicy: Forbid}), a missed run is skipped after the starting deadline, a run is
 * stopped after the active deadline, one retry (none for usage or integrity errors, exit 2 and 3),
 * kept history, a time zone, memory sized for the bounded-memory pipeline, credentials only through
 * {@code secretKeyRef}, and a non-root, read-only container. Nothing secret is ever written into it:
 * URLs that carry a password are refused.
 *
 * <pre>{@code
 * String yaml = BackupCronJob.builder().name("shop-nightly").namespace("shop").schedule("30 2 * * *")
 *         .image("registry.example.com/backupkit:0.1.0").repository("s3://acme-backups/shop")
 *         .database("k8s://shop?selector=cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary&database=shop&secret=shop-app")
 *         .repositorySecret("backupkit-repo").build().toYaml();
 * }</pre>
 *
 * <p>The image's entrypoint must run the backupkit CLI (the manifest sets only {@code args}).
 * Secrets: {@code repositorySecret} holds {@code password} (and, for S3 without workload identity,
 * {@code aws-access-key-id} and {@code aws-secret-access-key}); {@code databaseSecret} holds
 * {@code username} and {@code password}.
 */
public final class BackupCronJob {
    private final Builder b;

    private BackupCronJob(Builder b) {
        JobPods.checkName("name", b.name, 52); // the controller appends 11 characters for each Job
        JobPods.checkNamespace(b.namespace);
        JobPods.checkSchedule(b.schedule);
        JobPods.checkTimeZone(b.timeZone);
        JobPods.checkImage(b.image);
        JobPods.checkNoSecretIn("the repository URL", b.repository);
        JobPods.checkNoSecretIn("the database URL", b.database);
        if (JobPods.isKubernetesUrl(b.database)) {
            KubernetesDatabaseUrl.parse(b.database);
        }
        JobPods.checkName("the repository secret", b.repositorySecret, 253);
        if (b.databaseSecret != null) {
            JobPods.checkName("the database secret", b.databaseSecret, 253);
        }
        JobPods.checkName("the service account", b.serviceAccount, 253);
        JobPods.checkQuantity("memory", b.memory);
        JobPods.checkQuantity("cpu", b.cpu);
        if (b.jobs < 1) {
            throw new ConfigurationException("jobs must be at least 1, was " + b.jobs);
        }
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The manifest as a fabric8 model object. */
    public CronJob toCronJob() {
        List<String> args = new ArrayList<>(List.of("backup", "--repo", b.repository, "--db", b.database, "--jobs",
                Integer.toString(b.jobs), "--json"));
        JobPods.Spec spec = new JobPods.Spec(b.image, args, b.repository, b.repositorySecret, b.databaseSecret, b.serviceAccount,
                JobPods.isKubernetesUrl(b.database), b.memory, b.cpu);
        return new CronJobBuilder()
                .withNewMetadata().withName(b.name).withNamespace(b.namespace).withLabels(JobPods.labels("backup", b.name)).endMetadata()
                .withNewSpec()
                .withSchedule(b.schedule.strip())
                .withTimeZone(b.timeZone)
                .withConcurrencyPolicy("Forbid")
                .withStartingDeadlineSeconds(b.startingDeadline.toSeconds())
                .withSuccessfulJobsHistoryLimit(b.successfulHistory)
                .withFailedJobsHistoryLimit(b.failedHistory)
                .withSuspend(false)
                .withNewJobTemplate()
                .withNewMetadata().withLabels(JobPods.labels("backup", b.name)).endMetadata()
                .withNewSpec()
                .withBackoffLimit(b.backoffLimit)
                .withActiveDeadlineSeconds(b.activeDeadline.toSeconds())
                .withPodFailurePolicy(JobPods.noRetryOnUsageOrIntegrity())
                .withNewTemplate()
                .withNewMetadata().withLabels(JobPods.labels("backup", b.name)).endMetadata()
                .withSpec(JobPods.pod(spec))
                .endTemplate()
                .endSpec()
                .endJobTemplate()
                .endSpec()
                .build();
    }

    /** The manifest as YAML, for {@code kubectl apply -f -}. */
    public String toYaml() {
        return new KubernetesSerialization().asYaml(toCronJob());
    }

    /** Configures a {@link BackupCronJob}. Not thread-safe. */
    public static final class Builder {
        private String name;
        private String namespace;
        private String schedule;
        private String timeZone = "Etc/UTC";
        private String image;
        private String repository;
        private String database;
        private String repositorySecret;
        private String databaseSecret;
        private String serviceAccount = "backupkit";
        private Duration startingDeadline = Duration.ofMinutes(15);
        private Duration activeDeadline = Duration.ofHours(6);
        private int backoffLimit = 1;
        private int successfulHistory = 3;
        private int failedHistory = 5;
        private int jobs = 2;
        private String memory = "768Mi";
        private String cpu = "500m";

        private Builder() {
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        /** Five-field cron ("30 2 * * *") or a macro (@daily). */
        public Builder schedule(String schedule) {
            this.schedule = schedule;
            return this;
        }

        /** IANA time zone the schedule is read in (default Etc/UTC). */
        public Builder timeZone(String zone) {
            this.timeZone = Objects.requireNonNull(zone);
            return this;
        }

        /** The image; its entrypoint runs the backupkit CLI. */
        public Builder image(String image) {
            this.image = image;
            return this;
        }

        /** Repository location (path, s3://bucket/prefix) without credentials. */
        public Builder repository(String url) {
            this.repository = url;
            return this;
        }

        /** Database URL (postgresql://… or k8s://…) without a password. */
        public Builder database(String url) {
            this.database = url;
            return this;
        }

        /** Secret with the repository password (key {@code password}) and optional S3 keys. */
        public Builder repositorySecret(String secret) {
            this.repositorySecret = secret;
            return this;
        }

        /** Secret with the database {@code username} and {@code password}. */
        public Builder databaseSecret(String secret) {
            this.databaseSecret = secret;
            return this;
        }

        /** Service account of the pods (default backupkit; a k8s:// database needs its Role). */
        public Builder serviceAccount(String name) {
            this.serviceAccount = name;
            return this;
        }

        /** A run that could not start this long after its time is skipped (default 15 min). */
        public Builder startingDeadline(Duration d) {
            this.startingDeadline = positive(d, "startingDeadline");
            return this;
        }

        /** A run is stopped after this long (default 6 h). */
        public Builder activeDeadline(Duration d) {
            this.activeDeadline = positive(d, "activeDeadline");
            return this;
        }

        /** Retries of a failed run (default 1). */
        public Builder backoffLimit(int n) {
            this.backoffLimit = nonNegative(n, "backoffLimit");
            return this;
        }

        /** Finished runs kept: successful (default 3) and failed (default 5). */
        public Builder history(int successful, int failed) {
            this.successfulHistory = nonNegative(successful, "successful history");
            this.failedHistory = nonNegative(failed, "failed history");
            return this;
        }

        /** Parallel dump streams and pipeline workers (default 2). */
        public Builder jobs(int jobs) {
            this.jobs = jobs;
            return this;
        }

        /** Memory request and limit (default 768Mi; the heap gets half). */
        public Builder memory(String quantity) {
            this.memory = quantity;
            return this;
        }

        /** CPU request (default 500m; no limit, so a run is never throttled below what the node has spare). */
        public Builder cpu(String quantity) {
            this.cpu = quantity;
            return this;
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigurationException(what + " must be positive, was " + d);
            }
            return d;
        }

        private static int nonNegative(int n, String what) {
            if (n < 0) {
                throw new ConfigurationException(what + " must not be negative, was " + n);
            }
            return n;
        }

        public BackupCronJob build() {
            return new BackupCronJob(this);
        }
    }
}
