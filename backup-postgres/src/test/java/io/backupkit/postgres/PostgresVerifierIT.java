package io.backupkit.postgres;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifier levels on PostgreSQL snapshots: each passes on a good one and fails with a named check on a damaged one (acceptance 5). */
class PostgresVerifierIT {
    static EphemeralPostgres pg;
    @TempDir
    Path dir;
    Repository repo;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        pg.createDatabase("shop");
        PgTestSupport.createBroadSchema(pg, "shop");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @BeforeEach
    void openRepo() {
        repo = Repository.builder().location(dir.resolve("repo").toString()).password("verify".toCharArray()).compression("zstd:1")
                .openOrCreate();
    }

    @AfterEach
    void closeRepo() {
        repo.close();
        assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'backupkit_verify_%'"),
                "no scratch database left behind");
    }

    private VerificationReport verify(VerificationLevel level) {
        return Verifier.builder().repository(repo).level(level).parallelism(2)
                .scratchTarget(PgTestSupport.target(pg, "unused").build()).build().verify();
    }

    private void backup(BackupSource source) {
        BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup();
    }

    private static boolean hasFailure(VerificationReport r, String namePrefix) {
        return r.failures().stream().anyMatch(c -> c.name().startsWith(namePrefix));
    }

    @Test
    void goodSnapshot_passesEveryLevel_comprehensiveComparesRowsSchemaAndIndexes() {
        backup(PgTestSupport.source(pg, "shop"));
        for (VerificationLevel level : VerificationLevel.values()) {
            VerificationReport r = verify(level);
            assertTrue(r.passed(), level + " " + r.failures());
        }
        VerificationReport full = verify(VerificationLevel.COMPREHENSIVE);
        List<String> names = full.checks().stream().map(VerificationCheck::name).toList();
        assertTrue(names.contains("row count shop.customers") && names.contains("schema fingerprint")
                && names.contains("btree index check (amcheck)"), names.toString());
    }

    @Test
    void missingPack_failsQuick() {
        backup(PgTestSupport.source(pg, "shop"));
        ObjectInfo pack = biggestPack();
        repo.storage().delete(pack.name());
        VerificationReport r = verify(VerificationLevel.QUICK);
        assertFalse(r.passed());
        assertTrue(r.failures().stream().anyMatch(c -> c.message().contains(pack.name()) || c.name().contains(pack.name())),
                r.failures().toString());
    }

    @Test
    void flippedByte_passesQuick_failsStandardAndComprehensive() throws Exception {
        backup(PgTestSupport.source(pg, "shop"));
        ObjectInfo pack = biggestPack();
        byte[] bytes = repo.storage().readAll(pack.name());
        bytes[bytes.length / 3] ^= 0x10;
        repo.storage().delete(pack.name());
        repo.storage().putIfAbsent(pack.name(), Payload.of(bytes));
        assertTrue(verify(VerificationLevel.QUICK).passed(), "presence checks cannot see a flipped byte");
        VerificationReport standard = verify(VerificationLevel.STANDARD);
        assertFalse(standard.passed());
        VerificationReport comprehensive = verify(VerificationLevel.COMPREHENSIVE);
        assertFalse(comprehensive.passed(), comprehensive.checks().toString());
    }

    @Test
    void wrongRowCount_passesStandard_failsComprehensiveNamingTheTable() {
        BackupSource real = PgTestSupport.source(pg, "shop");
        backup(new BackupSource() {
            @Override
            public String engine() {
                return real.engine();
            }

            @Override
            public String describe() {
                return real.describe();
            }

            @Override
            public void backup(BackupContext context) {
                real.backup(new LyingContext(context));
            }
        });
        assertTrue(verify(VerificationLevel.STANDARD).passed());
        VerificationReport r = verify(VerificationLevel.COMPREHENSIVE);
        assertFalse(r.passed());
        VerificationCheck failed = r.failures().get(0);
        assertEquals("row count shop.customers", failed.name());
        assertEquals("expected 499 rows (snapshot metadata), restored 500", failed.message());
        assertTrue(r.passRate() < 1.0);
    }

    private ObjectInfo biggestPack() {
        return repo.storage().list("data/").stream().max(Comparator.comparingLong(ObjectInfo::size)).orElseThrow();
    }

    /** Records one table's row count one lower than it is: a manifest that does not match its data. */
    private static final class LyingContext extends ForwardingBackupContext<BackupContext> {
        LyingContext(BackupContext inner) {
            super(inner);
        }

        @Override
        @SuppressWarnings("unchecked")
        public void putMetadata(String key, Object value) {
            if (key.equals("tables")) {
                List<Object> tables = new ArrayList<>();
                for (Object o : (List<?>) value) {
                    Map<String, Object> t = new LinkedHashMap<>((Map<String, Object>) o);
                    if (t.get("name").equals("shop.customers")) {
                        t.put("rows", ((Number) t.get("rows")).longValue() - 1);
                    }
                    tables.add(t);
                }
                value = tables;
            }
            inner.putMetadata(key, value);
        }
    }
}
