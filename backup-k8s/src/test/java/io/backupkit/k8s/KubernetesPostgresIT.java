package io.backupkit.k8s;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.k8s.testing.FakeCluster;
import io.backupkit.postgres.PostgresEngine;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.postgres.testing.PostgresServer;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance 2: a backup and a restore through k8s:// that really run pg_dump, psql and pg_restore
 * (through the mock API server's exec, bridged to local processes) against real PostgreSQL servers,
 * with JDBC through the port-forward; the restore goes into a database "in another namespace"
 * (another server); the contents are equal. Also what a dropped connection or a denied permission
 * leaves behind: no snapshot, no half-restored database.
 */
class KubernetesPostgresIT {
    private static EphemeralPostgres prod;
    private static EphemeralPostgres staging;
    private static FakeCluster k8s;
    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        prod = EphemeralPostgres.start();
        staging = EphemeralPostgres.start();
        k8s = FakeCluster.start();
        k8s.addPod("shop", "shop-db-1", Map.of("cnpg.io/cluster", "shop-db", "cnpg.io/instanceRole", "primary"), "postgres");
        k8s.addPod("shop", "shop-db-2", Map.of("cnpg.io/cluster", "shop-db", "cnpg.io/instanceRole", "replica"), "postgres");
        k8s.addPod("staging", "pg-0", Map.of("app", "pg"), "postgres", "sidecar");
        k8s.containerPath("staging", "pg-0", "sidecar", FakeCluster.minimalPath(tmp.resolve("minimal-bin")));
        // each pod's database port is the local server's port (the tools "in the pod" connect to localhost:<port>)
        secret("shop", "shop-app", prod);
        secret("staging", "pg-superuser", staging);
        prod.createDatabase("shop");
        prod.execute("shop", """
                CREATE TABLE customers (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL, photo bytea);
                INSERT INTO customers (name, photo)
                  SELECT 'Kunde ' || i || ' Ünïcødé ✓', decode(md5(i::text) || md5((i * 7)::text), 'hex') FROM generate_series(1, 20000) i;
                CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, note text, placed date);
                INSERT INTO orders (customer, note, placed)
                  SELECT 1 + i % 20000, repeat(md5(i::text), 8), date '2025-01-01' + i % 365 FROM generate_series(1, 150000) i;
                CREATE INDEX orders_customer ON orders (customer);
                CREATE VIEW big_orders AS SELECT * FROM orders WHERE length(note) > 100;
                """);
    }

    private static void secret(String ns, String name, PostgresServer pg) {
        k8s.client().secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
                .addToStringData("username", pg.user()).addToStringData("password", pg.password()).build()).create();
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

    private static String prodUrl() {
        return "k8s://shop?selector=cnpg.io/cluster=shop-db,cnpg.io/instanceRole=primary&database=shop&secret=shop-app&port=" + prod.port();
    }

    private static String stagingUrl(String db) {
        return "k8s://staging/pg-0/postgres?database=" + db + "&secret=pg-superuser&port=" + staging.port();
    }

    private static Repository repo(String name) {
        return Repository.builder().location(tmp.resolve(name).toString()).password("repo-pw".toCharArray()).openOrCreate();
    }

    @Test
    void backupThroughExec_restoreIntoAnotherNamespace_contentsEqual() {
        int execsBefore = k8s.execs().size();
        try (Repository repo = repo("roundtrip")) {
            BackupResult backup = BackupManager.builder().repository(repo).parallelism(2)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source())
                    .build().backup();
            assertEquals(PostgresEngine.NAME, backup.snapshot().engine(), "an ordinary PostgreSQL snapshot");
            assertEquals(KubernetesDatabaseUrl.parse(prodUrl()).toString(), backup.snapshot().source(),
                    "the snapshot names the k8s:// source, without secrets");
            // the tools really ran through exec, and JDBC really went through the port-forward
            List<String> tools = k8s.execs().subList(execsBefore, k8s.execs().size()).stream().map(c -> c.get(5)).toList();
            assertTrue(tools.contains("pg_dump"), tools.toString());
            assertTrue(k8s.requests().stream().anyMatch(r -> r.contains("/pods/shop-db-1/portforward?ports=" + prod.port())));
            assertFalse(k8s.requests().stream().anyMatch(r -> r.contains("/pods/shop-db-2/")), "never the replica");

            RestoreManager.builder().repository(repo).snapshot(backup.snapshotId()).parallelism(2)
                    .target(KubernetesPostgres.builder().url(stagingUrl("shop_copy")).client(k8s.client()).build().target())
                    .build().restore();
            List<String> restoreTools = k8s.execs().stream().map(c -> c.size() > 5 ? c.get(5) : "").toList();
            assertTrue(restoreTools.contains("pg_restore"), restoreTools.toString());
            assertEquals(digest(prod, "shop"), digest(staging, "shop_copy"));

            VerificationReport report = Verifier.builder().repository(repo).snapshot(backup.snapshotId()).level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(KubernetesPostgres.builder().url(stagingUrl("postgres")).client(k8s.client()).build().target())
                    .build().verify();
            assertTrue(report.passed(), report.toString());
        }
    }

    /**
     * Acceptance 1 with a real dump: pg_dump's custom-format bytes (binary, over 64 MiB) through one
     * exec, checked against the digest computed in the "pod"; then the same bytes back through one
     * exec's stdin into pg_restore, and the table arrives whole.
     */
    @Test
    void realDumpOver64MiB_streamsThroughOneExec_andBackThroughStdin() throws Exception {
        prod.createDatabase("big");
        prod.execute("big", "CREATE TABLE blobs (g int PRIMARY KEY, b bytea NOT NULL); "
                + "INSERT INTO blobs SELECT g, decode(repeat(md5(g::text) || md5((-g)::text), 16), 'hex') FROM generate_series(1, 70000) g");
        staging.createDatabase("big_copy");
        Path dump = tmp.resolve("big.dump");
        String conn = "host=localhost port=" + prod.port() + " dbname=big user=" + prod.user();
        try (PodExecutor pod = PodExecutor.builder().client(k8s.client()).namespace("shop").pod("shop-db-1").build()) {
            io.backupkit.spi.CommandSpec dumpSpec = io.backupkit.spi.CommandSpec.builder("sh").arg("-c")
                    .arg("pg_dump --format=custom --compress=0 --dbname=\"$0\" > \"$1\" && sha256sum \"$1\" >&2 && cat \"$1\"")
                    .arg(conn).arg(dump.toString()).env("PGPASSWORD", prod.password()).build();
            PodExecutorIT.Done d = PodExecutorIT.run(pod, dumpSpec, null);
            assertEquals(0, d.exit(), d.stderr());
            assertTrue(d.length() >= 64L << 20, "a dump of at least 64 MiB: " + d.length());
            assertEquals(d.stderr().split("\\s+")[0], d.sha256(), "the bytes that arrived are the bytes pg_dump wrote");
        }
        try (PodExecutor pod = PodExecutor.builder().client(k8s.client()).namespace("staging").pod("pg-0").build();
             java.io.InputStream in = java.nio.file.Files.newInputStream(dump)) {
            io.backupkit.spi.CommandSpec restoreSpec = io.backupkit.spi.CommandSpec.builder("pg_restore").arg("--exit-on-error")
                    .arg("--no-owner").arg("--dbname=host=localhost port=" + staging.port() + " dbname=big_copy user=" + staging.user())
                    .env("PGPASSWORD", staging.password()).build();
            PodExecutorIT.Done r = PodExecutorIT.run(pod, restoreSpec, in);
            assertEquals(0, r.exit(), r.stderr());
        } finally {
            java.nio.file.Files.deleteIfExists(dump);
        }
        String digest = "SELECT count(*) || ':' || md5(string_agg(md5(b), '' ORDER BY g)) FROM blobs";
        assertEquals(prod.queryForString("big", digest), staging.queryForString("big_copy", digest));
    }

    @Test
    void secretNamedInTheUrl_isTheOnlyCredential_andNeverInTheSnapshotOrExecUrls() {
        try (Repository repo = repo("secret")) {
            BackupResult r = BackupManager.builder().repository(repo)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source()).build().backup();
            assertFalse(r.snapshot().source().contains(prod.password()));
            assertFalse(r.snapshot().metadata().toString().contains(prod.password()));
        }
        for (String request : k8s.requests()) {
            assertFalse(java.net.URLDecoder.decode(request, java.nio.charset.StandardCharsets.UTF_8).contains(prod.password()), request);
        }
    }

    @Test
    void execDroppedDuringBackup_failsTheBackup_andNoSnapshotIsListed() {
        // table data is COPYed by psql sessions in the pod (format 2): cut one of them after 64 KiB of its output
        k8s.dropNextExec(cmd -> cmd.contains("psql") && cmd.stream().anyMatch(a -> a.contains("backupkit-copy data-")), 64 * 1024, -1);
        try (Repository repo = repo("dropped-backup")) {
            BackupException e = assertThrows(BackupException.class, () -> BackupManager.builder().repository(repo).parallelism(2)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source()).build().backup());
            assertTrue(e.getMessage().contains("exec connection closed before the command ended"), e.getMessage());
            assertTrue(repo.snapshots().list().isEmpty(), "a failed backup leaves no snapshot");
        }
    }

    @Test
    void portForwardDroppedDuringBackup_failsTheBackupSayingSo_andNoSnapshotIsListed() {
        // the JDBC session that holds the backup's snapshot goes through the port-forward; drop it when the
        // first table's COPY starts in the pod
        k8s.dropPortForwardsOnExec(cmd -> cmd.contains("psql") && cmd.stream().anyMatch(a -> a.contains("backupkit-copy data-")));
        int cutBefore = k8s.portForwardsCut();
        try (Repository repo = repo("dropped-forward")) {
            BackupException e = assertThrows(BackupException.class, () -> BackupManager.builder().repository(repo).parallelism(2)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source()).build().backup());
            assertTrue(k8s.portForwardsCut() > cutBefore, "a forwarded connection was cut mid-backup");
            assertTrue(e.getMessage().contains("port-forward connection to pod shop-db-1") && e.getMessage().contains("was dropped"),
                    e.getMessage());
            assertFalse(e.getMessage().contains(prod.password()));
            assertTrue(repo.snapshots().list().isEmpty(), "a failed backup leaves no snapshot");
        }
    }

    @Test
    void execDroppedDuringRestore_failsTheRestore_andRemovesTheDatabaseItCreated() {
        try (Repository repo = repo("dropped-restore")) {
            BackupResult b = BackupManager.builder().repository(repo)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source()).build().backup();
            // table data goes through JDBC COPY over the port-forward (format 2); what streams into the pod over exec is the
            // schema: cut pg_restore's pre-data input after its first KiB reached the pod
            long preData = b.snapshot().stream("pre-data").orElseThrow().size();
            assertTrue(preData > 2048, "the pre-data stream is big enough to be cut in the middle: " + preData);
            k8s.dropNextExec(cmd -> cmd.contains("pg_restore") && cmd.stream().anyMatch(a -> a.contains("backupkit-pg_restore pre-data")),
                    -1, 1024);
            BackupException e = assertThrows(BackupException.class, () -> RestoreManager.builder().repository(repo).snapshot(b.snapshotId())
                    .target(KubernetesPostgres.builder().url(stagingUrl("half_restored")).client(k8s.client()).build().target())
                    .build().restore());
            assertTrue(e.getMessage().contains("exec connection"), e.getMessage());
            assertFalse(staging.databaseExists("half_restored"), "the restore removed the database it had created");
        }
    }

    @Test
    void portForwardDenied_saysWhichPermissionIsMissing() {
        k8s.deny("create", "pods/portforward", "shop");
        try (Repository repo = repo("denied")) {
            KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class, () -> BackupManager.builder()
                    .repository(repo).source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source())
                    .build().backup());
            assertEquals("pods/portforward", e.resource());
            assertTrue(e.getMessage().startsWith("Kubernetes RBAC denied create on pods/portforward in namespace shop"), e.getMessage());
            assertTrue(repo.snapshots().list().isEmpty());
        }
    }

    @Test
    void secretDenied_saysWhichPermissionIsMissing() {
        k8s.deny("get", "secrets", "shop");
        try (Repository repo = repo("secret-denied")) {
            KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class, () -> BackupManager.builder()
                    .repository(repo).source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source())
                    .build().backup());
            assertEquals("get", e.verb());
            assertEquals("secrets", e.resource());
        }
    }

    @Test
    void restoreIntoAContainerWithoutTheTools_namesToolAndContainer_andLeavesNoDatabase() {
        try (Repository repo = repo("no-tools")) {
            BackupResult b = BackupManager.builder().repository(repo)
                    .source(KubernetesPostgres.builder().url(prodUrl()).client(k8s.client()).build().source()).build().backup();
            String url = "k8s://staging/pg-0/sidecar?database=never_created&secret=pg-superuser&port=" + staging.port();
            EngineException e = assertThrows(EngineException.class, () -> RestoreManager.builder().repository(repo).snapshot(b.snapshotId())
                    .target(KubernetesPostgres.builder().url(url).client(k8s.client()).build().target()).build().restore());
            assertTrue(e.getMessage().startsWith("pg_restore not found in pod pg-0 (container sidecar) in namespace staging"), e.getMessage());
            assertFalse(staging.databaseExists("never_created"));
        }
    }

    /** Row count and an order-independent digest of every table; sequences' positions. */
    static Map<String, String> digest(PostgresServer pg, String db) {
        Map<String, String> out = new TreeMap<>();
        for (List<String> t : pg.query(db, "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                + "WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')")) {
            String q = PostgresServer.quoteIdent(t.get(0)) + "." + PostgresServer.quoteIdent(t.get(1));
            out.put(q, pg.queryForString(db, "SELECT count(*) || ':' || coalesce(md5(string_agg(x.r, E'\\n' ORDER BY x.r COLLATE \"C\")), '-') "
                    + "FROM (SELECT t::text AS r FROM ONLY " + q + " t) x"));
        }
        for (List<String> s : pg.query(db, "SELECT schemaname, sequencename FROM pg_sequences")) {
            String q = PostgresServer.quoteIdent(s.get(0)) + "." + PostgresServer.quoteIdent(s.get(1));
            out.put("seq " + q, pg.queryForString(db, "SELECT last_value || '/' || is_called FROM " + q));
        }
        out.put("indexes", pg.queryForString(db, "SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'"));
        return out;
    }
}
