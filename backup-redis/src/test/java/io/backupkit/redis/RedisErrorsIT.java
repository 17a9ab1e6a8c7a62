package io.backupkit.redis;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.TargetExistsException;
import io.backupkit.redis.internal.Crc64;
import io.backupkit.redis.testing.EphemeralRedis;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every Redis error case with its message: wrong credentials, no password, non-empty target, too old server, too few databases. */
class RedisErrorsIT {
    @TempDir
    static Path dir;
    static EphemeralRedis source;
    static Repository repo;
    static BackupResult snapshot;

    @BeforeAll
    static void setUp() {
        source = EphemeralRedis.builder().aclUser("backup", "right-password").start();
        source.command("SELECT", "0");
        source.command("SET", "a", "1");
        RedisTestData.fill(source, 5, 2);
        repo = Repository.builder().location(dir.resolve("repo").toString()).password("redis-errors".toCharArray()).openOrCreate();
        snapshot = BackupManager.builder().repository(repo)
                .source(RedisSource.builder().url(source.url()).password(source.password().orElseThrow()).build()).build().backup();
    }

    @AfterAll
    static void tearDown() {
        repo.close();
        source.close();
    }

    private void backup(BackupSource s) {
        BackupManager.builder().repository(repo).source(s).build().backup();
    }

    private void restore(String snapshotId, RedisTarget target) {
        RestoreManager.builder().repository(repo).snapshot(snapshotId).target(target).build().restore();
    }

    @Test
    void backup_withAWrongPassword_saysTheLoginWasRefused_withoutThePassword() {
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> backup(RedisSource.builder().url(source.url()).password("wrong-password".toCharArray()).build()));
        assertEquals("Redis at " + source.url() + " refused the login of user backup (WRONGPASS invalid username-password pair or user "
                + "is disabled.); check the user in the URL and the password (engine option password; CLI: $BACKUPKIT_DB_PASSWORD or "
                + "--db-password-file)", e.getMessage());
        assertTrue(!e.getMessage().contains("wrong-password") && !e.getMessage().contains("right-password"));
    }

    @Test
    void backup_withoutAPassword_saysOneIsNeeded() {
        try (EphemeralRedis protectedServer = EphemeralRedis.builder().password("default-user-pw").start()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> backup(RedisSource.builder().url(protectedServer.url()).build()));
            assertTrue(e.getMessage().startsWith("Redis at " + protectedServer.url() + " requires a password (NOAUTH Authentication required.)"),
                    e.getMessage());
        }
    }

    @Test
    void restore_withAWrongPassword_saysTheLoginWasRefused() {
        try (EphemeralRedis target = EphemeralRedis.builder().aclUser("restorer", "target-pw").start()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> restore(snapshot.snapshotId(), RedisTarget.builder().url(target.url()).password("nope".toCharArray()).build()));
            assertTrue(e.getMessage().startsWith("Redis at " + target.url() + " refused the login of user restorer (WRONGPASS"), e.getMessage());
        }
    }

    @Test
    void restore_intoANonEmptyServer_isRefused_andChangesNothing_unlessAsked() {
        try (EphemeralRedis target = EphemeralRedis.start()) {
            target.command("SELECT", "0");
            target.command("SET", "precious", "data");
            target.command("FUNCTION", "LOAD", "#!lua name=mylib\nredis.register_function('f', function() return 1 end)");
            TargetExistsException e = assertThrows(TargetExistsException.class,
                    () -> restore(snapshot.snapshotId(), RedisTarget.builder().url(target.url()).build()));
            assertEquals("Redis at " + target.url(), e.target());
            assertEquals("Redis at " + target.url() + " is not empty: it holds 1 keys in database(s) [0] and 1 function libraries; nothing "
                    + "was changed. Restore into an empty server, or flush it first (RedisTarget.builder().dropExisting(true), engine option "
                    + "dropExisting=true, CLI --drop-existing --yes)", e.getMessage());
            assertEquals("1", target.command("DBSIZE"));
            assertEquals("data", target.command("GET", "precious"));

            restore(snapshot.snapshotId(), RedisTarget.builder().url(target.url()).dropExisting().build());
            assertEquals("", target.command("GET", "precious"), "dropExisting flushed the old keys");
            assertEquals(RedisTestData.dump(source).values(), RedisTestData.dump(target).values(), "same keys and values");
        }
    }

    @Test
    void restore_intoAServerTooOldForTheSnapshotsRdbVersion_isRefused() {
        // a snapshot as Redis 7.4 writes it (RDB version 12): Redis 7.0 cannot load its payloads
        BackupResult newer = BackupManager.builder().repository(repo).source(new CraftedRdbSource(12, "7.4.2")).build().backup();
        try (EphemeralRedis target = EphemeralRedis.start()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> restore(newer.snapshotId(), RedisTarget.builder().url(target.url()).build()));
            assertEquals("Redis " + target.version() + " at " + target.url() + " is too old for snapshot " + newer.snapshot().shortId()
                    + ": it loads RDB versions up to 10, the snapshot is RDB version 12 (from Redis 7.4.2); restore into Redis 7.4.2 or later",
                    e.getMessage());
        }
    }

    @Test
    void backup_ofAServerOlderThan5_isRefused() throws Exception {
        try (FakeOldRedis old = new FakeOldRedis("4.0.14")) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> backup(RedisSource.builder().url("redis://127.0.0.1:" + old.port()).build()));
            assertEquals("Redis 4.0.14 at redis://127.0.0.1:" + old.port() + " is too old: backupkit needs Redis 5.0 or later", e.getMessage());
        }
    }

    @Test
    void restore_intoAServerWithFewerDatabasesThanTheSnapshotUses_saysSo() {
        try (EphemeralRedis target = EphemeralRedis.builder().setting("databases", "4").start()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> restore(snapshot.snapshotId(), RedisTarget.builder().url(target.url()).build()));
            assertEquals("Redis at " + target.url() + " has fewer logical databases than the snapshot uses (database 15); raise "
                    + "'databases' in its configuration", e.getMessage());
        }
    }

    @Test
    void restore_whoseResultDiffersFromTheSnapshot_failsTheComparison_evictionUnderMaxmemory() {
        // ~40 MB of keys into a server limited to 16 MB that evicts: keys vanish during the restore
        BackupResult big;
        try (EphemeralRedis large = EphemeralRedis.start(); redis.clients.jedis.Jedis j = RedisTestData.jedis(large)) {
            try (redis.clients.jedis.Pipeline p = j.pipelined()) {
                String value = "v".repeat(300);
                for (int i = 0; i < 100_000; i++) {
                    p.set("big:" + i, value + i);
                }
                p.sync();
            }
            big = BackupManager.builder().repository(repo).source(RedisSource.builder().url(large.url()).build()).build().backup();
        }
        try (EphemeralRedis target = EphemeralRedis.builder().setting("maxmemory", "16mb").setting("maxmemory-policy", "allkeys-random").start()) {
            io.backupkit.IntegrityException e = assertThrows(io.backupkit.IntegrityException.class,
                    () -> restore(big.snapshotId(), RedisTarget.builder().url(target.url()).build()));
            assertTrue(e.getMessage().contains("the restore into " + target.url() + " finished but does not match the snapshot: key count db0: "
                    + "snapshot 100000 keys"), e.getMessage());
            assertTrue(e.getMessage().contains("eviction under maxmemory"), e.getMessage());
        }
    }

    /** Writes a minimal valid RDB of the given version, as a newer Redis would have sent it. */
    static final class CraftedRdbSource implements BackupSource {
        private final int version;
        private final String redisVersion;

        CraftedRdbSource(int version, String redisVersion) {
            this.version = version;
            this.redisVersion = redisVersion;
        }

        @Override
        public String engine() {
            return RedisEngine.NAME;
        }

        @Override
        public String describe() {
            return "redis://crafted:6379";
        }

        @Override
        public void backup(BackupContext context) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.writeBytes(String.format("REDIS%04d", version).getBytes(StandardCharsets.US_ASCII));
            b.write(0xfe); // SELECTDB 0
            b.write(0);
            b.write(0); // a string key "k" = "v"
            b.write(1);
            b.write('k');
            b.write(1);
            b.write('v');
            b.write(0xff);
            long crc = Crc64.of(b.toByteArray(), 0, b.size());
            for (int i = 0; i < 8; i++) {
                b.write((int) (crc >>> (8 * i)));
            }
            try (OutputStream out = context.newStream(RedisSource.STREAM)) {
                out.write(b.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            context.putMetadata("rdbVersion", version);
            context.putMetadata("redisVersion", redisVersion);
            context.putMetadata("keys", 1);
        }
    }

    /** Answers every command as a Redis of the given version would answer INFO (servers that old cannot run here). */
    static final class FakeOldRedis implements AutoCloseable {
        private final ServerSocket server;
        private final Thread thread;

        FakeOldRedis(String version) throws IOException {
            server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try (Socket s = server.accept()) {
                        InputStream in = s.getInputStream();
                        OutputStream out = s.getOutputStream();
                        byte[] buf = new byte[4096];
                        while (in.read(buf) > 0) {
                            String info = "# Server\r\nredis_version:" + version + "\r\nrole:master\r\n";
                            out.write(("$" + info.length() + "\r\n" + info + "\r\n").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "fake-old-redis");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
