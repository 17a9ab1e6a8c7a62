package io.backupkit.redis;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.redis.testing.EphemeralRedis;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Acceptance of the Redis engine (issue 15): strings, hashes, lists, sets, sorted sets, streams, keys
 * with TTLs, several logical databases; restore gives equal key counts, equal values and TTLs within a
 * second. The source uses an ACL user with a password.
 */
class RedisBackupIT {
    @TempDir
    static Path dir;
    static EphemeralRedis source;
    static Repository repo;
    static RedisTestData.Dump before;

    @BeforeAll
    static void setUp() {
        source = EphemeralRedis.builder().aclUser("backup", "s3cret-pw").start();
        RedisTestData.fill(source, Integer.getInteger("backupkit.it.redisScale", 2000), 1);
        before = RedisTestData.dump(source);
        repo = Repository.builder().location(dir.resolve("repo").toString()).password("redis-it".toCharArray()).openOrCreate();
    }

    @AfterAll
    static void tearDown() {
        if (repo != null) {
            repo.close();
        }
        if (source != null) {
            source.close();
        }
    }

    private BackupResult backup(boolean diskless) {
        RedisSource s = RedisSource.builder().url(source.url()).password(source.password().orElseThrow()).diskless(diskless).build();
        return BackupManager.builder().repository(repo).source(s).build().backup();
    }

    @Test
    void everyTypeAndDatabase_roundTrips_withEqualValuesAndTtlsWithinASecond() {
        BackupResult result = backup(true);
        Map<String, Object> md = result.snapshot().metadata();
        assertEquals("redis", result.snapshot().engine());
        assertEquals("diskless", md.get("transfer"));
        assertEquals(source.version(), md.get("redisVersion"));
        assertEquals(10, ((Number) md.get("rdbVersion")).intValue(), "Redis 7.0 writes RDB version 10");
        assertEquals(before.keys(), ((Number) md.get("keys")).longValue());
        assertEquals(List.of(0, 3, 15), ((List<?>) md.get("databases")).stream().map(m -> ((Number) ((Map<?, ?>) m).get("db")).intValue()).toList());

        try (EphemeralRedis target = EphemeralRedis.builder().randomPassword().start()) {
            long restoreStart = System.currentTimeMillis();
            RestoreManager.builder().repository(repo).snapshot(result.snapshotId())
                    .target(RedisTarget.builder().url(target.url()).password(target.password().orElseThrow()).build()).build().restore();
            long elapsed = System.currentTimeMillis() - restoreStart;
            RedisTestData.Dump after = RedisTestData.dump(target);
            assertEquals(before.values().keySet(), after.values().keySet(), "the same logical databases");
            for (int db : before.values().keySet()) {
                assertEquals(before.values().get(db).size(), after.values().get(db).size(), "key count of db" + db);
                assertEquals(before.values().get(db), after.values().get(db), "values of db" + db);
                Map<String, Long> t0 = before.ttls().get(db);
                Map<String, Long> t1 = after.ttls().get(db);
                long withTtl = 0;
                for (Map.Entry<String, Long> e : t0.entrySet()) {
                    long a = e.getValue();
                    long b = t1.get(e.getKey());
                    if (a < 0) {
                        assertEquals(a, b, "no TTL on " + e.getKey());
                    } else {
                        withTtl++;
                        // the restore keeps absolute expiry times: the TTL read now is the TTL read before, minus the time in between
                        assertTrue(Math.abs(a - b) <= 1000 + elapsed + 60_000 && b <= a, "TTL of " + e.getKey() + ": " + a + " then " + b);
                    }
                }
                assertEquals(51, withTtl, "keys with TTLs in db" + db);
            }
        }
    }

    @Test
    void restoreAsAnRdbFile_startsAServerWithTheSameData_andAnExistingFileIsRefused() throws Exception {
        BackupResult result = backup(true);
        Path rdb = dir.resolve("data/dump.rdb");
        RestoreManager.builder().repository(repo).snapshot(result.snapshotId())
                .target(new RedisEngine().target("rdb:" + rdb, Map.of())).build().restore();
        try (EphemeralRedis started = EphemeralRedis.builder().rdbFile(rdb).start()) {
            assertEquals(before.values(), RedisTestData.dump(started).values(), "a server started on the file holds the snapshot");
        }
        byte[] original = java.nio.file.Files.readAllBytes(rdb);
        io.backupkit.TargetExistsException e = org.junit.jupiter.api.Assertions.assertThrows(io.backupkit.TargetExistsException.class,
                () -> RestoreManager.builder().repository(repo).snapshot(result.snapshotId())
                        .target(RedisRdbFileTarget.builder().path(rdb).build()).build().restore());
        assertTrue(e.getMessage().startsWith("RDB file " + rdb + " exists; nothing was changed."), e.getMessage());
        org.junit.jupiter.api.Assertions.assertArrayEquals(original, java.nio.file.Files.readAllBytes(rdb));
    }

    @Test
    void diskBasedTransfer_givesTheSameSnapshot() {
        BackupResult disk = backup(false);
        assertEquals("disk", disk.snapshot().metadata().get("transfer"));
        BackupResult diskless = backup(true);
        assertEquals(disk.snapshot().metadata().get("databases"), diskless.snapshot().metadata().get("databases"),
                "same keys and content digests by either transfer");
    }

    @Test
    void comprehensiveVerification_restoresIntoAScratchServer_comparesAndFlushesIt() {
        BackupResult result = backup(true);
        try (EphemeralRedis scratch = EphemeralRedis.start()) {
            VerificationReport report = Verifier.builder().repository(repo).snapshot(result.snapshotId()).level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(RedisTarget.builder().url(scratch.url()).build()).build().verify();
            assertTrue(report.passed(), report.toString());
            assertTrue(report.checks().stream().anyMatch(c -> c.name().equals("content digest db15") && !c.failed()), report.toString());
            assertTrue(report.checks().stream().anyMatch(c -> c.name().equals("RDB checksum") && !c.failed()), report.toString());
            assertEquals("0", scratch.command("DBSIZE"), "the scratch server is empty again");
        }
    }
}
