package io.backupkit.cli;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code backupkit k8s cronjob|restore-job}, in-process: the flags of the issue, YAML and JSON that parse back, refusals. */
class K8sCommandTest {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final List<String> CRON = List.of("k8s", "cronjob", "--name", "shop-nightly", "--namespace", "shop", "--schedule",
            "30 2 * * *", "--image", "registry.example.com/backupkit:0.1.0", "--repo", "s3://acme-backups/shop", "--db",
            "postgresql://backup@shop-db-rw.shop.svc:5432/shop", "--repo-secret", "backupkit-repo", "--db-secret", "shop-app");
    private String stdout;
    private String stderr;

    private int run(List<String> base, String... more) {
        List<String> args = new ArrayList<>(base);
        args.addAll(Arrays.asList(more));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = BackupkitCli.execute(args.toArray(String[]::new), out, err, Map.of());
        stdout = out.toString(StandardCharsets.UTF_8);
        stderr = err.toString(StandardCharsets.UTF_8);
        return code;
    }

    @Test
    void cronjob_withTheIssuesFlags_printsACronJobThatParses() {
        assertEquals(0, run(CRON), stderr);
        assertTrue(stdout.startsWith("---\napiVersion: \"batch/v1\"\nkind: \"CronJob\""), stdout);
        CronJob c = SERIALIZATION.unmarshal(stdout, CronJob.class);
        assertEquals("30 2 * * *", c.getSpec().getSchedule());
        assertEquals("Forbid", c.getSpec().getConcurrencyPolicy());
        var container = c.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals("registry.example.com/backupkit:0.1.0", container.getImage());
        assertEquals(List.of("backup", "--repo", "s3://acme-backups/shop", "--db", "postgresql://backup@shop-db-rw.shop.svc:5432/shop",
                "--jobs", "2", "--json"), container.getArgs());
        for (EnvVar e : container.getEnv()) {
            if (!e.getName().equals("JAVA_TOOL_OPTIONS")) {
                assertNull(e.getValue(), e.getName());
            }
        }
        assertEquals("", stderr);
    }

    @Test
    void cronjob_json_isOneJsonDocument_ofTheSameObject() {
        assertEquals(0, run(CRON, "--json", "--time-zone", "Europe/Berlin"));
        CronJob c = SERIALIZATION.unmarshal(stdout, CronJob.class);
        assertEquals("Europe/Berlin", c.getSpec().getTimeZone());
        assertTrue(stdout.strip().startsWith("{") && stdout.strip().endsWith("}"), stdout);
    }

    @Test
    void restoreJob_printsAJobInTheTargetNamespace() {
        assertEquals(0, run(List.of("k8s", "restore-job", "--name", "shop-to-staging", "--namespace", "staging", "--image", "img:1",
                "--repo", "s3://acme-backups/shop", "--target", "k8s://staging/pg-0?database=shop&secret=pg-superuser",
                "--repo-secret", "backupkit-repo", "--snapshot", "1a2b3c4d")), stderr);
        Job j = SERIALIZATION.unmarshal(stdout, Job.class);
        assertEquals("staging", j.getMetadata().getNamespace());
        assertEquals(0, j.getSpec().getBackoffLimit());
        assertEquals(List.of("restore", "--repo", "s3://acme-backups/shop", "1a2b3c4d", "--target",
                "k8s://staging/pg-0?database=shop&secret=pg-superuser", "--json"),
                j.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgresql://backup:hunter2@db/shop", "postgresql://db/shop?password=hunter2"})
    void passwordInAUrl_isAUsageError_thatDoesNotRepeatIt(String db) {
        List<String> args = new ArrayList<>(CRON);
        args.set(args.indexOf("--db") + 1, db);
        assertEquals(2, run(args));
        assertTrue(stderr.contains("put it into a Secret"), stderr);
        assertFalse(stderr.contains("hunter2"), stderr);
        assertEquals("", stdout, "nothing half-printed");
    }

    @Test
    void badSchedule_isAUsageError_naming_theFields() {
        List<String> args = new ArrayList<>(CRON);
        args.set(args.indexOf("--schedule") + 1, "30 25 * * *");
        assertEquals(2, run(args));
        assertTrue(stderr.contains("schedule '30 25 * * *' is not a five-field cron expression"), stderr);
    }

    @Test
    void missingRequiredFlag_isAUsageError() {
        assertEquals(2, run(List.of("k8s", "cronjob", "--name", "x", "--namespace", "shop")));
        assertTrue(stderr.contains("Missing required options"), stderr);
        assertEquals(2, run(List.of("k8s")));
        assertTrue(stderr.contains("missing subcommand: cronjob or restore-job"), stderr);
    }
}
