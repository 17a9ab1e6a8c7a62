package io.backupkit.postgres;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots written by backupkit 0.1 (format 1: table data as pg_dump archives) still restore and
 * verify, now that backups write format 2. The fixture is in {@code src/test/resources/format1-snapshot}.
 */
class PostgresFormat1IT {
    static EphemeralPostgres pg;
    static InMemoryBackup backup;
    static Snapshot snapshot;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() throws IOException {
        pg = EphemeralPostgres.start();
        Map<String, Object> metadata;
        try (InputStream in = PostgresFormat1IT.class.getResourceAsStream("/format1-snapshot/metadata.json")) {
            metadata = new ObjectMapper().readValue(in, Map.class);
        }
        assertEquals("backupkit-postgres-logical/1", metadata.get("format"));
        backup = new InMemoryBackup(2);
        BackupSource recorded = new BackupSource() {
            @Override
            public String engine() {
                return PostgresEngine.NAME;
            }

            @Override
            public String describe() {
                return "postgresql://postgres@127.0.0.1:55432/legacy (format 1 fixture)";
            }

            @Override
            public void backup(BackupContext context) {
                throw new UnsupportedOperationException();
            }
        };
        for (String stream : List.of("pre-data", "data-0001", "data-0002", "data-other", "post-data")) {
            try (InputStream in = PostgresFormat1IT.class.getResourceAsStream("/format1-snapshot/" + stream);
                 OutputStream out = backup.newStream(stream)) {
                in.transferTo(out);
            }
        }
        metadata.forEach(backup::putMetadata);
        snapshot = backup.snapshot(recorded);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void formatOneSnapshot_restoresItsDataSequencesAndLargeObjects() {
        target(pg, "legacy").build().restore(backup.restoreContext(snapshot, 2));
        assertEquals("7dc1090dea8ef5280049dd1c939a86e4", pg.queryForString("legacy",
                "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM customers t"));
        assertEquals("8917221708d24b8a7b9a166f7edc1b0b", pg.queryForString("legacy",
                "SELECT md5(string_agg(t::text, ',' ORDER BY id, placed)) FROM orders t"));
        Map<String, String> seqs = DbDigest.sequences(pg, "legacy");
        assertEquals("1234/true", seqs.get("public.invoice_no"));
        assertEquals("300/true", seqs.get("public.customers_id_seq"));
        assertEquals("2000/true", seqs.get("public.orders_id_seq"));
        assertEquals("legacy large object", pg.queryForString("legacy", "SELECT convert_from(lo_get(body), 'UTF8') FROM docs"));
        pg.dropDatabase("legacy");
    }

    @Test
    void formatOneSnapshot_verifiesByRestore() {
        List<VerificationCheck> checks = target(pg, "unused").build().verifyByRestore(backup.restoreContext(snapshot, 2));
        assertTrue(checks.stream().noneMatch(VerificationCheck::failed), checks.toString());
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("schema fingerprint") && c.status() == VerificationCheck.Status.PASSED),
                checks.toString());
        assertTrue(checks.stream().anyMatch(c -> c.name().equals("sequence values") && c.status() == VerificationCheck.Status.SKIPPED),
                checks.toString());
    }
}
