package io.backupkit.s3;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.StorageException;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Wrong bucket, wrong credentials, unreachable endpoint: clear errors naming bucket and endpoint, never the secret. */
class S3BadInputIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();

    /** The message and every cause's message and stack trace text, as a log would print them. */
    private static String everything(Throwable e) {
        StringWriter w = new StringWriter();
        e.printStackTrace(new PrintWriter(w));
        StringBuilder all = new StringBuilder(w.toString());
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append('\n').append(t);
        }
        return all.toString();
    }

    private static void assertNoSecret(Throwable e, String... secrets) {
        String text = everything(e);
        for (String secret : secrets) {
            assertFalse(text.contains(secret), "secret leaked into: " + text);
        }
    }

    @Test
    void missingBucket_isConfigurationError_namingBucketAndEndpoint() {
        try (S3Storage storage = S3.storage("no-such-bucket-here").build()) {
            for (Runnable op : new Runnable[]{
                    () -> storage.putIfAbsent("config", Payload.of(new byte[10])),
                    () -> storage.list("snapshots/"),
                    () -> storage.readAll("config")}) {
                ConfigurationException e = assertThrows(ConfigurationException.class, op::run);
                assertTrue(e.getMessage().contains("no-such-bucket-here"), e.getMessage());
                assertTrue(e.getMessage().contains(S3.endpoint().toString()), e.getMessage());
                assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
                assertNoSecret(e, S3.secretKey());
            }
        }
    }

    @Test
    void wrongSecret_isConfigurationError_withoutTheSecret() {
        String wrong = "wrong-secret-" + System.nanoTime();
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).credentials(S3.accessKey(), wrong).maxAttempts(2).build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> storage.putIfAbsent("config", Payload.of(new byte[10])));
            assertTrue(e.getMessage().contains("rejected the credentials"), e.getMessage());
            assertTrue(e.getMessage().contains(bucket) && e.getMessage().contains(S3.endpoint().toString()), e.getMessage());
            assertNoSecret(e, wrong, S3.secretKey());

            ConfigurationException list = assertThrows(ConfigurationException.class, () -> storage.list(""));
            assertNoSecret(list, wrong, S3.secretKey());
            assertFalse(storage.location().contains(wrong));
            assertFalse(storage.toString().contains(wrong));
        }
    }

    @Test
    void unknownAccessKey_isConfigurationError() {
        String secret = "another-secret-" + System.nanoTime();
        try (S3Storage storage = S3.storage(S3.newBucket()).credentials("AKIAUNKNOWN", secret).build()) {
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> storage.stat("config"));
            assertTrue(e.getMessage().contains("rejected the credentials") || e.getMessage().contains("access denied"), e.getMessage());
            assertNoSecret(e, secret);
        }
    }

    @Test
    void unreachableEndpoint_isRetryableStorageError_namingEndpointAndBucket() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        URI nowhere = URI.create("http://127.0.0.1:" + closedPort);
        try (S3Storage storage = S3.storage("some-bucket", nowhere).maxAttempts(2).build()) {
            StorageException e = assertThrows(StorageException.class, () -> storage.putIfAbsent("config", Payload.of(new byte[10])));
            assertTrue(e.retryable());
            assertTrue(e.getMessage().contains("127.0.0.1:" + closedPort), e.getMessage());
            assertTrue(e.getMessage().contains("some-bucket"), e.getMessage());
            assertTrue(e.getMessage().contains("cannot reach"), e.getMessage());
            assertNoSecret(e, S3.secretKey());
            BackupException list = assertThrows(StorageException.class, () -> storage.list(""));
            assertTrue(list.getMessage().contains("cannot reach"), list.getMessage());
        }
    }

    @Test
    void badConfiguration_failsAtBuild() {
        assertThrows(ConfigurationException.class, () -> S3Storage.builder().build());
        assertThrows(ConfigurationException.class, () -> S3Storage.builder().bucket("b").partSize(1024));
        assertThrows(ConfigurationException.class, () -> S3Storage.builder().bucket("b").maxConcurrency(0));
        assertThrows(ConfigurationException.class, () -> S3Storage.builder().bucket("b").credentials("id", ""));
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> S3Storage.builder().bucket("b").endpointOverride(URI.create("http://key:hunter2@127.0.0.1:9000")));
        assertNoSecret(e, "hunter2");
    }
}
