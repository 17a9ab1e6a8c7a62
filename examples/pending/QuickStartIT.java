package io.backupkit.examples;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs the README's example, {@link QuickStart}, from the packaged jar against a real PostgreSQL. */
class QuickStartIT {
    @TempDir
    Path dir;

    @Test
    void readmeExample_backsUpVerifiesAndRestores() throws Exception {
        try (EphemeralPostgres pg = EphemeralPostgres.builder().start()) {
            pg.createDatabase("shop");
            pg.execute("shop", "CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty int NOT NULL);"
                    + "INSERT INTO orders (item, qty) SELECT 'item ' || g, g % 7 FROM generate_series(1, 5000) g");
            Path repo = dir.resolve("repo");
            Path out = dir.resolve("out.txt");
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", Path.of("target", "backupkit.jar").toAbsolutePath().toString(), QuickStart.class.getName(),
                    "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/shop", repo.toString(),
                    "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/shop_copy")
                    .redirectErrorStream(true).redirectOutput(out.toFile());
            pb.environment().put("BACKUPKIT_PASSWORD", "quick start password");
            pb.environment().put("PGPASSWORD", pg.password());
            Process p = pb.start();
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            String output = Files.readString(out, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), output);
            assertTrue(output.matches("(?s).*snapshot [0-9a-f]{8}: \\d+ bytes read, \\d+ stored, verified: true.*"), output);
            assertEquals(List.of(List.of("5000", "14997")),
                    pg.query("shop_copy", "SELECT count(*), sum(qty) FROM orders"));
        }
    }
}
