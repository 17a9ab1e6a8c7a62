package io.backupkit.k8s.internal;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import io.backupkit.ConfigurationException;
import io.backupkit.k8s.KubernetesDatabaseUrl;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SeccompProfileBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicy;
import io.fabric8.kubernetes.api.model.batch.v1.PodFailurePolicyBuilder;

import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The pod that runs the backupkit container in a CronJob or Job: credentials only through
 * secretKeyRef, non-root with a read-only root file system, memory sized for the bounded-memory
 * pipeline, and the checks that keep anything secret or invalid out of a generated manifest.
 */
public final class JobPods {
    public static final String CONTAINER = "backupkit";
    /** A UID/GID that exists in distroless and most base images, and is not root. */
    public static final long USER = 65532;
    static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    private static final Set<String> CRON_MACROS = Set.of("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly");
    private static final Pattern QUANTITY = Pattern.compile("[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?");

    private JobPods() {
    }

    /** The container's settings. */
    public record Spec(String image, List<String> args, String repository, String repositorySecret, String databaseSecret,
                       String serviceAccount, boolean needsApi, String memory, String cpu) {
    }

    public static void checkName(String what, String name, int max) {
        if (name == null || name.isBlank()) {
            throw new ConfigurationException(what + " is required");
        }
        if (name.length() > max || !DNS_SUBDOMAIN.matcher(name).matches()) {
            throw new ConfigurationException(what + " '" + name + "' is not a valid Kubernetes name (lower-case letters, digits, '-' and '.', "
                    + "starting and ending with a letter or digit, at most " + max + " characters)");
        }
    }

    public static void checkNamespace(String namespace) {
        if (namespace == null || namespace.length() > 63 || !DNS_LABEL.matcher(namespace).matches()) {
            throw new ConfigurationException("namespace '" + namespace + "' is not a valid namespace name (lower-case letters, digits and '-', "
                    + "at most 63 characters)");
        }
    }

    /** Five-field Unix cron, or a macro, as the CronJob controller reads it. */
    public static void checkSchedule(String schedule) {
        if (schedule == null || schedule.isBlank()) {
            throw new ConfigurationException("a schedule is required, e.g. \"30 2 * * *\" (02:30 every day)");
        }
        String s = schedule.strip();
        if (s.startsWith("TZ=") || s.startsWith("CRON_TZ=")) {
            throw new ConfigurationException("put the time zone into --time-zone, not into the schedule ('" + schedule + "'): "
                    + "Kubernetes rejects TZ= in CronJob schedules");
        }
        if (s.startsWith("@")) {
            if (!CRON_MACROS.contains(s.toLowerCase(Locale.ROOT))) {
                throw new ConfigurationException("unknown schedule macro '" + s + "'; known: " + CRON_MACROS);
            }
            return;
        }
        try {
            new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX)).parse(s).validate();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("schedule '" + schedule + "' is not a five-field cron expression (minute hour day-of-month "
                    + "month day-of-week): " + e.getMessage());
        }
    }

    public static void checkTimeZone(String zone) {
        try {
            ZoneId z = ZoneId.of(zone);
            if (!(z.getId().contains("/") || z.getId().equals("UTC"))) {
                throw new DateTimeException("not a region");
            }
        } catch (DateTimeException e) {
            throw new ConfigurationException("time zone '" + zone + "' is not an IANA time zone name (e.g. Europe/Berlin, Etc/UTC)");
        }
    }

    public static void checkQuantity(String what, String q) {
        if (q == null || !QUANTITY.matcher(q).matches()) {
            throw new ConfigurationException(what + " '" + q + "' is not a Kubernetes quantity (e.g. 512Mi, 1Gi, 500m, 2)");
        }
    }

    public static void checkImage(String image) {
        if (image == null || image.isBlank() || image.chars().anyMatch(Character::isWhitespace)) {
            throw new ConfigurationException("an image is required, e.g. registry.example.com/backupkit:0.1.0");
        }
    }

    /**
     * Refuses a URL that carries a secret: manifests are stored in Git and shown by kubectl; passwords
     * and keys go through Secrets only.
     */
    public static void checkNoSecretIn(String what, String url) {
        if (url == null || url.isBlank()) {
            throw new ConfigurationException(what + " is required");
        }
        String lower = url.toLowerCase(Locale.ROOT);
        boolean userInfoWithPassword = url.matches("^[A-Za-z][A-Za-z0-9+.-]*://[^/@?#]*:[^/@?#]*@.*");
        boolean secretParam = lower.matches(".*[?&](password|secret[-_]?key|secretaccesskey|secret_access_key|aws_secret_access_key|sessiontoken|token)=.*");
        if (userInfoWithPassword || secretParam) {
            throw new ConfigurationException(what + " holds a password or key; a manifest must not: put it into a Secret "
                    + "(--repo-secret / --db-secret) and leave it out of the URL");
        }
    }

    public static boolean isKubernetesUrl(String url) {
        return KubernetesDatabaseUrl.isKubernetesUrl(url);
    }

    /** Memory for the JVM heap: half the container's limit; the rest is direct buffers, metaspace, threads. */
    static final String JAVA_OPTIONS = "-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp";

    public static PodSpec pod(Spec s) {
        List<EnvVar> env = new ArrayList<>();
        env.add(secretEnv("BACKUPKIT_PASSWORD", s.repositorySecret(), "password", false));
        if (s.repository().toLowerCase(Locale.ROOT).startsWith("s3://")) {
            // optional: with IRSA / workload identity the SDK finds credentials without them
            env.add(secretEnv("AWS_ACCESS_KEY_ID", s.repositorySecret(), "aws-access-key-id", true));
            env.add(secretEnv("AWS_SECRET_ACCESS_KEY", s.repositorySecret(), "aws-secret-access-key", true));
        }
        if (s.databaseSecret() != null) {
            env.add(secretEnv("BACKUPKIT_DB_USER", s.databaseSecret(), "username", true));
            env.add(secretEnv("BACKUPKIT_DB_PASSWORD", s.databaseSecret(), "password", false));
        }
        env.add(new EnvVarBuilder().withName("JAVA_TOOL_OPTIONS").withValue(JAVA_OPTIONS).build());
        Map<String, Quantity> requests = new LinkedHashMap<>();
        requests.put("cpu", new Quantity(s.cpu()));
        requests.put("memory", new Quantity(s.memory()));
        Map<String, Quantity> limits = new LinkedHashMap<>();
        limits.put("memory", new Quantity(s.memory()));
        return new PodSpecBuilder()
                .withRestartPolicy("Never")
                .withServiceAccountName(s.serviceAccount())
                .withAutomountServiceAccountToken(s.needsApi())
                .withNewSecurityContext()
                .withRunAsNonRoot(true).withRunAsUser(USER).withRunAsGroup(USER).withFsGroup(USER)
                .withSeccompProfile(new SeccompProfileBuilder().withType("RuntimeDefault").build())
                .endSecurityContext()
                .addToContainers(new ContainerBuilder()
                        .withName(CONTAINER)
                        .withImage(s.image())
                        .withImagePullPolicy("IfNotPresent")
                        .withArgs(s.args())
                        .withEnv(env)
                        .withResources(new ResourceRequirementsBuilder().withRequests(requests).withLimits(limits).build())
                        .withNewSecurityContext()
                        .withRunAsNonRoot(true).withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                        .withCapabilities(new Capabilities(null, List.of("ALL")))
                        .endSecurityContext()
                        .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
                        .build())
                .addNewVolume().withName("tmp").withNewEmptyDir().withSizeLimit(new Quantity("1Gi")).endEmptyDir().endVolume()
                .build();
    }

    private static EnvVar secretEnv(String name, String secret, String key, boolean optional) {
        return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key)
                .withOptional(optional ? Boolean.TRUE : null).endSecretKeyRef().endValueFrom().build();
    }

    /** Exit 2 (usage or configuration) and 3 (damaged data, wrong key) do not get better by retrying. */
    public static PodFailurePolicy noRetryOnUsageOrIntegrity() {
        return new PodFailurePolicyBuilder().addNewRule().withAction("FailJob").withNewOnExitCodes().withContainerName(CONTAINER)
                .withOperator("In").withValues(2, 3).endOnExitCodes().endRule().build();
    }

    public static Map<String, String> labels(String component, String instance) {
        Map<String, String> l = new LinkedHashMap<>();
        l.put("app.kubernetes.io/name", "backupkit");
        l.put("app.kubernetes.io/component", component);
        l.put("app.kubernetes.io/instance", instance);
        l.put("app.kubernetes.io/managed-by", "backupkit");
        return l;
    }
}
