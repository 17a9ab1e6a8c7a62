package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.internal.JobPods;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code batch/v1} Job that runs {@code backupkit restore} once, typically into a database in
 * another namespace than the one the snapshot came from (staging from production). No retry: a
 * failed restore removes the database it created, and an operator decides what next. The finished
 * Job is removed after a week. Same pod rules as {@link BackupCronJob}: credentials only through
 * {@code secretKeyRef}, non-root, read-only.
 *
 * <pre>{@code
 * String yaml = RestoreJob.builder().name("shop-to-staging").namespace("staging")
 *         .image("registry.example.com/backupkit:0.1.0").repository("s3://acme-backups/shop").snapshot("latest")
 *         .target("k8s://staging/pg-0?database=shop&secret=pg-superuser").repositorySecret("backupkit-repo").build().toYaml();
 * }</pre>
 */
public final class RestoreJob {
    private final Builder b;

    private RestoreJob(Builder b) {
        JobPods.checkName("name", b.name, 63);
        JobPods.checkNamespace(b.namespace);
        JobPods.checkImage(b.image);
        JobPods.checkNoSecretIn("the repository URL", b.repository);
        JobPods.checkNoSecretIn("the target URL", b.target);
        if (JobPods.isKubernetesUrl(b.target)) {
            KubernetesDatabaseUrl.parse(b.target);
        }
        JobPods.checkName("the repository secret", b.repositorySecret, 253);
        if (b.databaseSecret != null) {
            JobPods.checkName("the database secret", b.databaseSecret, 253);
        }
        JobPods.checkName("the service account", b.serviceAccount, 253);
        JobPods.checkQuantity("memory", b.memory);
        JobPods.checkQuantity("cpu", b.cpu);
        if (b.snapshot == null || !b.snapshot.matches("latest|[0-9a-f]{4,64}")) {
            throw new ConfigurationException("snapshot must be 'latest' or a snapshot id (prefix), was '" + b.snapshot + "'");
        }
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Job toJob() {
        List<String> args = new ArrayList<>(List.of("restore", "--repo", b.repository, b.snapshot, "--target", b.target, "--json"));
        if (b.dropExisting) {
            args.add("--drop-existing");
            args.add("--yes");
        }
        JobPods.Spec spec = new JobPods.Spec(b.image, args, b.repository, b.repositorySecret, b.databaseSecret, b.serviceAccount,
                JobPods.isKubernetesUrl(b.target), b.memory, b.cpu);
        return new JobBuilder()
                .withNewMetadata().withName(b.name).withNamespace(b.namespace).withLabels(JobPods.labels("restore", b.name)).endMetadata()
                .withNewSpec()
                .withBackoffLimit(0)
                .withActiveDeadlineSeconds(b.activeDeadline.toSeconds())
                .withTtlSecondsAfterFinished((int) Duration.ofDays(7).toSeconds())
                .withPodFailurePolicy(JobPods.noRetryOnUsageOrIntegrity())
                .withNewTemplate()
                .withNewMetadata().withLabels(JobPods.labels("restore", b.name)).endMetadata()
                .withSpec(JobPods.pod(spec))
                .endTemplate()
                .endSpec()
                .build();
    }

    public String toYaml() {
        return new KubernetesSerialization().asYaml(toJob());
    }

    /** Configures a {@link RestoreJob}. Not thread-safe. */
    public static final class Builder {
        private String name;
        private String namespace;
        private String image;
        private String repository;
        private String target;
        private String snapshot = "latest";
        private String repositorySecret;
        private String databaseSecret;
        private String serviceAccount = "backupkit";
        private boolean dropExisting;
        private Duration activeDeadline = Duration.ofHours(6);
        private String memory = "768Mi";
        private String cpu = "500m";

        private Builder() {
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Namespace of the Job (usually the target database's). */
        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder image(String image) {
            this.image = image;
            return this;
        }

        public Builder repository(String url) {
            this.repository = url;
            return this;
        }

        /** The database to restore into (postgresql://… or k8s://…); created, never overwritten unless {@link #dropExisting()}. */
        public Builder target(String url) {
            this.target = url;
            return this;
        }

        /** Snapshot id or prefix, or latest (default). */
        public Builder snapshot(String snapshot) {
            this.snapshot = snapshot;
            return this;
        }

        public Builder repositorySecret(String secret) {
            this.repositorySecret = secret;
            return this;
        }

        public Builder databaseSecret(String secret) {
            this.databaseSecret = secret;
            return this;
        }

        public Builder serviceAccount(String name) {
            this.serviceAccount = name;
            return this;
        }

        /** Replace the target database if it exists (its data is lost). */
        public Builder dropExisting() {
            this.dropExisting = true;
            return this;
        }

        public Builder activeDeadline(Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigurationException("activeDeadline must be positive, was " + d);
            }
            this.activeDeadline = d;
            return this;
        }

        public Builder memory(String quantity) {
            this.memory = quantity;
            return this;
        }

        public Builder cpu(String quantity) {
            this.cpu = quantity;
            return this;
        }

        public RestoreJob build() {
            return new RestoreJob(this);
        }
    }
}
