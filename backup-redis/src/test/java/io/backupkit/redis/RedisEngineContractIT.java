package io.backupkit.redis;

import io.backupkit.redis.testing.EphemeralRedis;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreTarget;
import io.backupkit.testkit.DatabaseEngineContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shared engine contract (backup-core test jar) for Redis: a "database" is a whole server instance. */
class RedisEngineContractIT extends DatabaseEngineContract<EphemeralRedis> {
    static EphemeralRedis scratch;

    @BeforeAll
    static void startScratch() {
        scratch = EphemeralRedis.start();
    }

    @AfterAll
    static void stopScratch() {
        scratch.close();
    }

    @Override
    protected String engineName() {
        return "redis";
    }

    @Override
    protected EphemeralRedis createSampleDatabase() {
        EphemeralRedis r = EphemeralRedis.builder().aclUser("contract", "contract-pw").start();
        RedisTestData.fill(r, 1500, 9);
        return r;
    }

    @Override
    protected EphemeralRedis newTarget() {
        return EphemeralRedis.builder().randomPassword().start();
    }

    @Override
    protected void modify(EphemeralRedis r) {
        r.command("SET", "db0:str:17", "changed");
        r.command("HSET", "db0:hash:small", "f1", "changed");
    }

    @Override
    protected Map<String, String> digest(EphemeralRedis r) {
        Map<String, String> out = new TreeMap<>();
        RedisTestData.dump(r).values().forEach((db, keys) -> {
            try {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                keys.forEach((k, v) -> md.update((k + "\u0000" + v + "\u0001").getBytes(StandardCharsets.UTF_8)));
                out.put("db" + db + " (" + keys.size() + " keys)", HexFormat.of().formatHex(md.digest()));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        });
        return out;
    }

    @Override
    protected boolean exists(EphemeralRedis r) {
        return !RedisTestData.dump(r).values().isEmpty();
    }

    @Override
    protected BackupSource source(EphemeralRedis r) {
        return RedisSource.builder().url(r.url()).password(r.password().orElse(null)).build();
    }

    @Override
    protected RestoreTarget target(EphemeralRedis r, boolean replaceExisting) {
        return RedisTarget.builder().url(r.url()).password(r.password().orElse(null)).dropExisting(replaceExisting).build();
    }

    @Override
    protected Optional<RestoreTarget> scratchTarget() {
        return Optional.of(RedisTarget.builder().url(scratch.url()).build());
    }

    @Override
    protected void assertNoScratchLeft() {
        assertEquals("0", scratch.command("DBSIZE"));
        assertEquals(Map.of(), RedisTestData.dump(scratch).values());
    }

    @Override
    protected void dispose(EphemeralRedis r) {
        r.close();
    }
}
