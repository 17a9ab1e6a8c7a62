package io.backupkit.cli;

import io.backupkit.k8s.BackupCronJob;
import io.backupkit.k8s.RestoreJob;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Duration;

/**
 * {@code backupkit k8s cronjob|restore-job}: print manifests that run backupkit in a Kubernetes
 * cluster. Credentials appear only as secretKeyRef; a URL carrying a password is refused.
 */
@Command(name = "k8s", description = "Kubernetes: print a CronJob that backs up on a schedule, or a Job that restores once.",
        subcommands = {K8sCommand.CronJobCommand.class, K8sCommand.RestoreJobCommand.class},
        footer = {"", "Examples:",
                "  backupkit k8s cronjob --name shop-nightly --namespace shop --schedule '30 2 * * *' --image registry.example.com/backupkit:0.1.0 \\",
                "      --repo s3://acme-backups/shop --db 'k8s://shop/shop-db-1?database=shop&secret=shop-app' --repo-secret backupkit-repo | kubectl apply -f -",
                "  backupkit k8s restore-job --name shop-to-staging --namespace staging --image registry.example.com/backupkit:0.1.0 \\",
                "      --repo s3://acme-backups/shop --target 'k8s://staging/pg-0?database=shop&secret=pg-superuser' --repo-secret backupkit-repo",
                "", "The image's entrypoint must run the backupkit CLI. docs/kubernetes.md has the Role and a worked example."})
final class K8sCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: cronjob or restore-job");
    }

    /** Options both manifests share. */
    static final class PodOptions {
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "Name of the CronJob or Job.")
        String name;

        @Option(names = "--namespace", required = true, paramLabel = "NS", description = "Namespace it runs in.")
        String namespace;

        @Option(names = "--image", required = true, paramLabel = "IMAGE", description = "Image whose entrypoint runs the backupkit CLI.")
        String image;

        @Option(names = "--repo", required = true, paramLabel = "URL", description = "Repository (path or s3://bucket/prefix), without credentials.")
        String repo;

        @Option(names = "--repo-secret", required = true, paramLabel = "SECRET",
                description = "Secret with the repository password (key 'password'); for S3 also 'aws-access-key-id' and "
                        + "'aws-secret-access-key' unless the pod has a cloud identity.")
        String repoSecret;

        @Option(names = "--db-secret", paramLabel = "SECRET",
                description = "Secret with the database 'username' and 'password' (not needed when a k8s:// URL names its secret).")
        String dbSecret;

        @Option(names = "--service-account", paramLabel = "NAME", defaultValue = "backupkit",
                description = "Service account of the pod (default: ${DEFAULT-VALUE}); a k8s:// database needs its Role.")
        String serviceAccount;

        @Option(names = "--memory", paramLabel = "QUANTITY", defaultValue = "768Mi",
                description = "Memory request and limit; the JVM heap gets half (default: ${DEFAULT-VALUE}).")
        String memory;

        @Option(names = "--cpu", paramLabel = "QUANTITY", defaultValue = "500m", description = "CPU request (default: ${DEFAULT-VALUE}; no limit).")
        String cpu;

        @Option(names = "--active-deadline-seconds", paramLabel = "N", defaultValue = "21600",
                description = "Stop a run after N seconds (default: ${DEFAULT-VALUE}, 6 h).")
        long activeDeadlineSeconds;
    }

    static void print(CliCommand c, Object manifest, String yaml) {
        if (c.json()) {
            c.terminal.out.println(new KubernetesSerialization().asJson(manifest));
        } else {
            c.terminal.out.print(yaml.startsWith("---") ? yaml : "---\n" + yaml);
        }
        c.terminal.out.flush();
    }

    @Command(name = "cronjob", description = "Print a batch/v1 CronJob that runs 'backupkit backup' on a schedule.",
            footer = {"", "The CronJob: concurrencyPolicy Forbid, a starting deadline, one retry (none for exit codes 2 and 3), an active",
                    "deadline, a time zone, history limits, memory sized for the bounded-memory pipeline, credentials only through",
                    "secretKeyRef, non-root with a read-only root file system. Apply it with: ... | kubectl apply -f -"})
    static final class CronJobCommand extends CliCommand {
        @CommandLine.Mixin
        PodOptions pod;

        @Option(names = "--schedule", required = true, paramLabel = "EXPR", description = "Five-field cron expression or @daily/@hourly/….")
        String schedule;

        @Option(names = "--time-zone", paramLabel = "ZONE", defaultValue = "Etc/UTC",
                description = "IANA time zone of the schedule (default: ${DEFAULT-VALUE}).")
        String timeZone;

        @Option(names = "--db", required = true, paramLabel = "URL",
                description = "The database: postgresql://[user@]host[:port]/db or k8s://NAMESPACE/POD[/CONTAINER]?database=NAME; no password.")
        String db;

        @Option(names = "--jobs", paramLabel = "N", defaultValue = "2", description = "Parallel dump streams (default: ${DEFAULT-VALUE}).")
        int jobs;

        @Option(names = "--starting-deadline-seconds", paramLabel = "N", defaultValue = "900",
                description = "Skip a run that could not start within N seconds of its time (default: ${DEFAULT-VALUE}).")
        long startingDeadlineSeconds;

        @Option(names = "--backoff-limit", paramLabel = "N", defaultValue = "1", description = "Retries of a failed run (default: ${DEFAULT-VALUE}).")
        int backoffLimit;

        @Option(names = "--successful-jobs-history-limit", paramLabel = "N", defaultValue = "3",
                description = "Finished successful runs kept (default: ${DEFAULT-VALUE}).")
        int successfulHistory;

        @Option(names = "--failed-jobs-history-limit", paramLabel = "N", defaultValue = "5",
                description = "Failed runs kept (default: ${DEFAULT-VALUE}).")
        int failedHistory;

        CronJobCommand(Terminal terminal) {
            super(terminal);
        }

        @Override
        int run() {
            if (startingDeadlineSeconds < 1 || pod.activeDeadlineSeconds < 1) {
                throw usage("deadlines must be at least 1 second");
            }
            BackupCronJob.Builder b = BackupCronJob.builder().name(pod.name).namespace(pod.namespace).schedule(schedule).timeZone(timeZone)
                    .image(pod.image).repository(pod.repo).database(db).repositorySecret(pod.repoSecret).databaseSecret(pod.dbSecret)
                    .serviceAccount(pod.serviceAccount).memory(pod.memory).cpu(pod.cpu).jobs(jobs)
                    .startingDeadline(Duration.ofSeconds(startingDeadlineSeconds)).activeDeadline(Duration.ofSeconds(pod.activeDeadlineSeconds))
                    .backoffLimit(backoffLimit).history(successfulHistory, failedHistory);
            BackupCronJob cron = b.build();
            print(this, cron.toCronJob(), cron.toYaml());
            return ExitCodes.OK;
        }
    }

    @Command(name = "restore-job", description = "Print a batch/v1 Job that runs 'backupkit restore' once (e.g. into another namespace).",
            footer = {"", "The Job: no retry (a failed restore removes the database it created), an active deadline, removed a week after",
                    "it finished, credentials only through secretKeyRef, non-root with a read-only root file system."})
    static final class RestoreJobCommand extends CliCommand {
        @CommandLine.Mixin
        PodOptions pod;

        @Option(names = "--target", required = true, paramLabel = "URL",
                description = "Database to restore into: postgresql://host[:port]/db or k8s://NAMESPACE/POD[/CONTAINER]?database=NAME.")
        String target;

        @Option(names = "--snapshot", paramLabel = "ID", defaultValue = "latest", description = "Snapshot id or prefix (default: ${DEFAULT-VALUE}).")
        String snapshot;

        @Option(names = "--drop-existing", description = "Replace the target database if it exists.")
        boolean dropExisting;

        RestoreJobCommand(Terminal terminal) {
            super(terminal);
        }

        @Override
        int run() {
            if (pod.activeDeadlineSeconds < 1) {
                throw usage("--active-deadline-seconds must be at least 1");
            }
            RestoreJob.Builder b = RestoreJob.builder().name(pod.name).namespace(pod.namespace).image(pod.image).repository(pod.repo)
                    .target(target).snapshot(snapshot).repositorySecret(pod.repoSecret).databaseSecret(pod.dbSecret)
                    .serviceAccount(pod.serviceAccount).memory(pod.memory).cpu(pod.cpu)
                    .activeDeadline(Duration.ofSeconds(pod.activeDeadlineSeconds));
            if (dropExisting) {
                b.dropExisting();
            }
            RestoreJob job = b.build();
            print(this, job.toJob(), job.toYaml());
            return ExitCodes.OK;
        }
    }
}
