package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.k8s.testing.FakeCluster;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --db k8s://…} and {@code --target k8s://…} through the packaged jar: the CLI process finds the
 * cluster through KUBECONFIG (the fake cluster: mock API server whose exec runs pg_dump/pg_restore
 * on this host, port-forward to the local servers), backs up from one namespace and restores into
 * another.
 */
class CliKubernetesIT {
    private static final String PASSWORD = "it-repository-password";
    static EphemeralPostgres prod;
    static EphemeralPostgres staging;
    static FakeCluster k8s;
    @TempDir
    static Path dir;
    static Path kubeconfig;

    @BeforeAll
    static void start() {
        prod = EphemeralPostgres.start();
        staging = EphemeralPostgres.start();
        prod.createDatabase("shop");
        prod.execute("shop", DemoCommand.sampleSchemaAndData(2000));
        k8s = FakeCluster.start();
        k8s.addPod("shop", "shop-db-1", Map.of("cnpg.io/cluster", "shop-db", "cnpg.io/instanceRole", "primary"), "postgres");
        k8s.addPod("staging", "pg-0", Map.of("app", "pg"), "postgres");
        k8s.client().secrets().inNamespace("shop").resource(new SecretBuilder().withNewMetadata().withName("shop-app").endMetadata()
                .addToStringData("username", prod.user()).addToStringData("password", prod.password()).build()).create();
        kubeconfig = k8s.writeKubeconfig(dir.resolve("kubeconfig"));
    }

    @AfterAll
    static void stop() {
        k8s.close();
        staging.close();
        prod.close();
    }

    @BeforeEach
    void reset() {
        k8s.allowAll();
    }

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        env.put("KUBECONFIG", kubeconfig.toString());
        return env;
    }

    static String prodUrl() {
        return "k8s://shop?selector=cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary&database=shop&secret=shop-app&port=" + prod.port();
    }

    @Test
    void backupFromAPod_restoreIntoAPodInAnotherNamespace() {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
        JsonNode backup = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", prodUrl(), "--json").expect(0).json();
        assertEquals("postgresql", backup.path("snapshot").path("engine").asText());
        assertTrue(backup.path("snapshot").path("source").asText().startsWith("k8s://shop?database=shop&selector="), backup.toString());
        assertTrue(k8s.execs().stream().anyMatch(c -> c.contains("pg_dump")), "pg_dump ran through exec");

        // the staging database's password comes the usual way (environment), the user from the URL
        Map<String, String> stagingEnv = env();
        stagingEnv.put("BACKUPKIT_DB_PASSWORD", staging.password());
        String target = "k8s://staging/pg-0/postgres?database=shop_copy&user=" + staging.user() + "&port=" + staging.port();
        CliProcess.Result restore = CliProcess.run(stagingEnv, "restore", "--repo", repo.toString(), "latest", "--target", target)
                .expect(0);
        assertTrue(restore.stdout().startsWith("restored snapshot "), restore.toString());
        for (String table : List.of("customers", "products", "orders", "order_items")) {
            assertEquals(prod.queryForString("shop", "SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM " + table + " t"),
                    staging.queryForString("shop_copy", "SELECT count(*) || ':' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM " + table + " t"),
                    table);
        }
        assertFalse(restore.stdout().contains(staging.password()) || restore.stderr().contains(staging.password()));
    }

    @Test
    void missingPod_isAConfigurationError_exit2_sayingWhichPod() {
        CliProcess.run(env(), "init", "--repo", dir.resolve("r2").toString()).expect(0);
        CliProcess.Result r = CliProcess.run(env(), "backup", "--repo", dir.resolve("r2").toString(), "--db", "k8s://shop/shop-db-9?database=shop&secret=shop-app");
        r.expect(2);
        assertTrue(r.stderr().contains("pod shop-db-9 not found in namespace shop"), r.toString());
    }

    @Test
    void execDenied_exit2_namesTheMissingPermission() {
        Path repo = dir.resolve("r3");
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
        k8s.deny("create", "pods/exec", "shop");
        CliProcess.Result r = CliProcess.run(env(), "backup", "--repo", repo.toString(), "--db", prodUrl());
        r.expect(2);
        assertTrue(r.stderr().contains("Kubernetes RBAC denied create on pods/exec in namespace shop"), r.toString());
        CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0);
    }
}
