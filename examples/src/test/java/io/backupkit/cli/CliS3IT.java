package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.s3.S3ProxyFixture;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jar's merged service files reach backup-s3: an s3:// repository through the CLI, against S3Proxy. */
class CliS3IT {
    @Test
    void s3Repository_initBackupListVerifyRestore() {
        try (S3ProxyFixture s3 = new S3ProxyFixture().start(); EphemeralPostgres pg = EphemeralPostgres.builder().start()) {
            pg.createDatabase("shop");
            pg.execute("shop", DemoCommand.sampleSchemaAndData(2000));
            String repo = "s3://" + s3.newBucket() + "/shop?endpoint=" + s3.endpoint() + "&path-style=true&region=us-east-1";
            Map<String, String> env = new HashMap<>();
            env.put("BACKUPKIT_PASSWORD", "s3 cli password");
            env.put("BACKUPKIT_DB_PASSWORD", pg.password());
            env.put("AWS_ACCESS_KEY_ID", s3.accessKey());
            env.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());
            String db = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/";

            JsonNode init = CliProcess.run(env, "init", "--repo", repo, "--json").expect(0).json();
            assertTrue(init.path("repository").path("location").asText().startsWith("s3://"), init.toString());
            JsonNode backup = CliProcess.run(env, "backup", "--repo", repo, "--db", db + "shop", "--json").expect(0).json();
            String id = backup.path("snapshot").path("id").asText();
            assertEquals(1, CliProcess.run(env, "list", "--repo", repo, "--json").expect(0).json().path("snapshots").size());
            assertTrue(CliProcess.run(env, "verify", "--repo", repo, "--json").expect(0).json().path("passed").asBoolean());
            CliProcess.Result restore = CliProcess.run(env, "restore", "--repo", repo, id, "--target", db + "from_s3").expect(0);
            assertEquals(pg.queryForString("shop", "SELECT count(*) FROM orders"), pg.queryForString("from_s3", "SELECT count(*) FROM orders"));
            assertFalse((restore.stdout() + restore.stderr()).contains(s3.secretKey()), "no credentials in output");
        }
    }
}
