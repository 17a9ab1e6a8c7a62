package io.backupkit.k8s;

import io.backupkit.ConfigurationException;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance 3: the generated manifests parse as Kubernetes objects (fabric8's model classes), have
 * every field the API server requires, say what the issue asks for, and hold no secret.
 */
class ManifestsTest {
    private static final Pattern DNS = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
    private static final KubernetesSerialization YAML = new KubernetesSerialization();
    static final String DB = "k8s://shop?selector=cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary&database=shop&secret=shop-app";

    static BackupCronJob.Builder cron() {
        return BackupCronJob.builder().name("shop-nightly").namespace("shop").schedule("30 2 * * *").timeZone("Europe/Berlin")
                .image("registry.example.com/backupkit:0.1.0").repository("s3://acme-backups/shop").database(DB)
                .repositorySecret("backupkit-repo").databaseSecret("shop-app");
    }

    @Test
    void cronJob_parsesBack_withEverythingTheIssueAsksFor() {
        String yaml = cron().build().toYaml();
        CronJob c = YAML.unmarshal(yaml, CronJob.class);
        assertEquals(List.of(), missingRequiredFields(c));
        assertEquals("batch/v1", c.getApiVersion());
        assertEquals("CronJob", c.getKind());
        assertEquals("shop-nightly", c.getMetadata().getName());
        assertEquals("shop", c.getMetadata().getNamespace());
        assertEquals("30 2 * * *", c.getSpec().getSchedule());
        assertEquals("Europe/Berlin", c.getSpec().getTimeZone());
        assertEquals("Forbid", c.getSpec().getConcurrencyPolicy());
        assertEquals(900L, c.getSpec().getStartingDeadlineSeconds());
        assertEquals(3, c.getSpec().getSuccessfulJobsHistoryLimit());
        assertEquals(5, c.getSpec().getFailedJobsHistoryLimit());
        JobSpec job = c.getSpec().getJobTemplate().getSpec();
        assertEquals(1, job.getBackoffLimit());
        assertEquals(21600L, job.getActiveDeadlineSeconds());
        assertEquals(List.of(2, 3), job.getPodFailurePolicy().getRules().get(0).getOnExitCodes().getValues(),
                "usage and integrity failures are not retried");
        PodSpec pod = job.getTemplate().getSpec();
        Container container = pod.getContainers().get(0);
        assertEquals(List.of("backup", "--repo", "s3://acme-backups/shop", "--db", DB, "--jobs", "2", "--json"), container.getArgs());
        checkPodRules(pod);
        assertTrue(pod.getAutomountServiceAccountToken(), "a k8s:// database needs the API");
        assertEquals(envNames(container), List.of("BACKUPKIT_PASSWORD", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BACKUPKIT_DB_USER",
                "BACKUPKIT_DB_PASSWORD", "JAVA_TOOL_OPTIONS"));
        assertEquals("backupkit-repo", secretRef(container, "BACKUPKIT_PASSWORD"));
        assertEquals("shop-app", secretRef(container, "BACKUPKIT_DB_PASSWORD"));
    }

    /**
     * The RBAC verbs docs/kubernetes.md asks for on {@code resource} in the "More, only if used" row of
     * {@code feature}: KubernetesSecretKeyProviderIT checks the provider uses no other, and this test that
     * the row has the update the provider needs for a Secret made without the key.
     */
    static java.util.Set<String> documentedVerbs(String feature) throws java.io.IOException {
        java.util.Set<String> verbs = new java.util.TreeSet<>();
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("..", "docs", "kubernetes.md"))) {
            if (line.startsWith("| `" + feature + "` |")) {
                java.util.regex.Matcher m = Pattern.compile("`(get|list|watch|create|update|patch|delete)`").matcher(line);
                while (m.find()) {
                    verbs.add(m.group(1));
                }
            }
        }
        return verbs;
    }

    @Test
    void rbacDoc_givesTheSecretKeyProviderEveryVerbItUses() throws Exception {
        assertEquals(java.util.Set.of("create", "get", "update"), documentedVerbs("KubernetesSecretKeyProvider"));
    }

    /** The pod rules shared by both manifests. */
    static void checkPodRules(PodSpec pod) {
        assertEquals("Never", pod.getRestartPolicy());
        assertEquals("backupkit", pod.getServiceAccountName());
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertTrue(pod.getSecurityContext().getRunAsUser() > 0);
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());
        Container c = pod.getContainers().get(0);
        assertEquals("backupkit", c.getName());
        assertEquals("registry.example.com/backupkit:0.1.0", c.getImage());
        assertTrue(c.getSecurityContext().getRunAsNonRoot());
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());
        Quantity request = c.getResources().getRequests().get("memory");
        Quantity limit = c.getResources().getLimits().get("memory");
        assertEquals(limit, request, "memory request = limit: the heap is sized from it and never pushed out");
        assertTrue(Quantity.getAmountInBytes(limit).longValue() >= 512L << 20, "room for the bounded-memory pipeline (256 MiB heap at 2 jobs)");
        assertNull(c.getResources().getLimits().get("cpu"), "no CPU limit: throttling only slows the backup down");
        assertEquals("/tmp", c.getVolumeMounts().get(0).getMountPath(), "a writable /tmp beside the read-only root");
        for (EnvVar e : c.getEnv()) {
            if (e.getName().equals("JAVA_TOOL_OPTIONS")) {
                assertTrue(e.getValue().contains("MaxRAMPercentage=50"), e.getValue());
            } else {
                assertNull(e.getValue(), e.getName() + " must come from a Secret, never a literal");
                assertTrue(e.getValueFrom().getSecretKeyRef().getName() != null, e.getName());
            }
        }
    }

    @Test
    void noLiteralSecretAnywhere_inEitherManifest() {
        for (String yaml : List.of(cron().build().toYaml(), restore().build().toYaml())) {
            List<String> literalValues = new ArrayList<>();
            for (String line : yaml.split("\n")) {
                String l = line.strip();
                if (l.startsWith("value:") || l.startsWith("- value:")) {
                    literalValues.add(l);
                }
            }
            assertEquals(1, literalValues.size(), "only JAVA_TOOL_OPTIONS has a literal value: " + literalValues);
            assertTrue(literalValues.get(0).contains("-XX:MaxRAMPercentage"));
            assertFalse(yaml.contains("stringData") || yaml.matches("(?s).*\\bdata:.*"), "no Secret objects inside");
            assertFalse(yaml.toLowerCase().matches("(?s).*(password|token)=.*"), yaml);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql://backup:hunter2@db.shop/shop", "jdbc:postgresql://db/shop?password=hunter2",
            "postgres://u:p@db/shop"})
    void databaseUrlWithAPassword_isRefused(String url) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> cron().database(url).build());
        assertTrue(e.getMessage().contains("put it into a Secret"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), "the refusal does not repeat the secret");
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3://AKIAXXXX:wJalrXUtnFEMI@acme-backups/shop", "s3://acme-backups/shop?secret_key=abc",
            "s3://acme-backups/shop?sessionToken=abc"})
    void repositoryUrlWithAKey_isRefused(String url) {
        assertThrows(ConfigurationException.class, () -> cron().repository(url).build());
        assertThrows(ConfigurationException.class, () -> restore().repository(url).build());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "30 2 * * *|true", "*/15 * * * *|true", "0 3 * * 1-5|true", "@daily|true", "@hourly|true", "0 0 1 */2 *|true",
        "61 2 * * *|false", "30 2 * *|false", "30 2 * * * *|false", "TZ=Europe/Berlin 30 2 * * *|false", "@fortnightly|false", "|false",
    })
    void schedules_areCheckedLikeTheCronJobControllerDoes(String schedule, boolean valid) {
        String s = schedule == null ? "" : schedule;
        if (valid) {
            assertEquals(s, YAML.unmarshal(cron().schedule(s).build().toYaml(), CronJob.class).getSpec().getSchedule());
        } else {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> cron().schedule(s).build());
            assertTrue(e.getMessage().contains("schedule") || e.getMessage().contains("time zone"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"CET+1", "+02:00", "Mars/Olympus", "berlin"})
    void invalidTimeZone_isRefused(String zone) {
        assertThrows(ConfigurationException.class, () -> cron().timeZone(zone).build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Shop", "shop_nightly", "-shop", "a-name-that-is-much-too-long-for-a-cronjob-because-jobs-add-11", ""})
    void invalidNames_areRefused(String name) {
        assertThrows(ConfigurationException.class, () -> cron().name(name).build());
    }

    @Test
    void plainPostgresUrl_andLocalRepository_needNoApiToken_andNoS3Keys() {
        CronJob c = YAML.unmarshal(cron().database("postgresql://backup@shop-db-rw.shop.svc:5432/shop").repository("/backups/shop")
                .build().toYaml(), CronJob.class);
        PodSpec pod = c.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
        assertFalse(pod.getAutomountServiceAccountToken(), "no API access when nothing needs it");
        assertEquals(List.of("BACKUPKIT_PASSWORD", "BACKUPKIT_DB_USER", "BACKUPKIT_DB_PASSWORD", "JAVA_TOOL_OPTIONS"),
                envNames(pod.getContainers().get(0)));
    }

    static RestoreJob.Builder restore() {
        return RestoreJob.builder().name("shop-to-staging").namespace("staging").image("registry.example.com/backupkit:0.1.0")
                .repository("s3://acme-backups/shop").snapshot("latest").target("k8s://staging/pg-0?database=shop&secret=pg-superuser")
                .repositorySecret("backupkit-repo");
    }

    @Test
    void restoreJob_intoAnotherNamespace_parsesBack_withNoRetry() {
        Job j = YAML.unmarshal(restore().build().toYaml(), Job.class);
        assertEquals(List.of(), missingRequiredFields(j));
        assertEquals("batch/v1", j.getApiVersion());
        assertEquals("Job", j.getKind());
        assertEquals("staging", j.getMetadata().getNamespace());
        assertEquals(0, j.getSpec().getBackoffLimit(), "a failed restore removes what it created; a person decides what next");
        assertEquals(604800, j.getSpec().getTtlSecondsAfterFinished());
        assertEquals(21600L, j.getSpec().getActiveDeadlineSeconds());
        Container c = j.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(List.of("restore", "--repo", "s3://acme-backups/shop", "latest", "--target",
                "k8s://staging/pg-0?database=shop&secret=pg-superuser", "--json"), c.getArgs());
        checkPodRules(j.getSpec().getTemplate().getSpec());
        Job drop = YAML.unmarshal(restore().dropExisting().snapshot("1a2b3c4d").build().toYaml(), Job.class);
        assertEquals(List.of("restore", "--repo", "s3://acme-backups/shop", "1a2b3c4d", "--target",
                "k8s://staging/pg-0?database=shop&secret=pg-superuser", "--json", "--drop-existing", "--yes"),
                drop.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
        assertThrows(ConfigurationException.class, () -> restore().snapshot("--all").build());
    }

    /** What the API server would reject as missing or malformed, for the fields these manifests use. */
    static List<String> missingRequiredFields(Object manifest) {
        List<String> missing = new ArrayList<>();
        JobSpec job;
        io.fabric8.kubernetes.api.model.ObjectMeta meta;
        if (manifest instanceof CronJob c) {
            meta = c.getMetadata();
            require(missing, c.getSpec() != null, "spec");
            require(missing, c.getSpec().getSchedule() != null && !c.getSpec().getSchedule().isBlank(), "spec.schedule");
            require(missing, c.getSpec().getJobTemplate() != null, "spec.jobTemplate");
            require(missing, List.of("Allow", "Forbid", "Replace").contains(c.getSpec().getConcurrencyPolicy()), "spec.concurrencyPolicy");
            require(missing, meta.getName() != null && meta.getName().length() <= 52, "metadata.name (<= 52 for a CronJob)");
            job = c.getSpec().getJobTemplate().getSpec();
        } else {
            Job j = (Job) manifest;
            meta = j.getMetadata();
            job = j.getSpec();
        }
        require(missing, meta != null && meta.getName() != null && DNS.matcher(meta.getName()).matches(), "metadata.name");
        require(missing, meta != null && meta.getNamespace() != null && DNS.matcher(meta.getNamespace()).matches(), "metadata.namespace");
        require(missing, job != null && job.getTemplate() != null && job.getTemplate().getSpec() != null, "spec.template.spec");
        PodSpec pod = job.getTemplate().getSpec();
        require(missing, List.of("Never", "OnFailure").contains(pod.getRestartPolicy()), "template.spec.restartPolicy (Never/OnFailure)");
        require(missing, job.getPodFailurePolicy() == null || "Never".equals(pod.getRestartPolicy()), "podFailurePolicy needs restartPolicy Never");
        require(missing, pod.getContainers() != null && !pod.getContainers().isEmpty(), "template.spec.containers");
        for (Container c : pod.getContainers()) {
            require(missing, c.getName() != null && DNS.matcher(c.getName()).matches(), "containers[].name");
            require(missing, c.getImage() != null && !c.getImage().isBlank(), "containers[].image");
            for (EnvVar e : c.getEnv()) {
                require(missing, e.getName() != null && e.getName().matches("[A-Za-z_][A-Za-z0-9_]*"), "env[].name");
                require(missing, e.getValueFrom() == null || e.getValueFrom().getSecretKeyRef() == null
                        || (e.getValueFrom().getSecretKeyRef().getName() != null && e.getValueFrom().getSecretKeyRef().getKey() != null),
                        "secretKeyRef name and key");
            }
            for (var m : c.getVolumeMounts()) {
                require(missing, pod.getVolumes().stream().anyMatch(v -> v.getName().equals(m.getName())), "volume for mount " + m.getName());
            }
        }
        return missing;
    }

    private static void require(List<String> missing, boolean ok, String field) {
        if (!ok) {
            missing.add(field);
        }
    }

    private static List<String> envNames(Container c) {
        return c.getEnv().stream().map(EnvVar::getName).toList();
    }

    private static String secretRef(Container c, String env) {
        return c.getEnv().stream().filter(e -> e.getName().equals(env)).findFirst().orElseThrow().getValueFrom().getSecretKeyRef().getName();
    }

}
