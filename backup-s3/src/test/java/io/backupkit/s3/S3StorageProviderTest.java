package io.backupkit.s3;

import io.backupkit.ConfigurationException;
import io.backupkit.Storages;
import io.backupkit.spi.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** s3:// locations: found through ServiceLoader, parsed strictly, shown without credentials. */
class S3StorageProviderTest {

    @Test
    void storagesOpen_findsTheS3Provider() {
        try (Storage s = Storages.open("s3://acme-backups/shop/prod?region=eu-west-1&endpoint=http://127.0.0.1:9000&path-style=true")) {
            S3Storage s3 = assertInstanceOf(S3Storage.class, s);
            assertEquals("acme-backups", s3.bucket());
            assertEquals("shop/prod/", s3.prefix());
            assertEquals("s3://acme-backups/shop/prod/?region=eu-west-1&endpoint=http%3A%2F%2F127.0.0.1%3A9000&path-style=true",
                    s3.location());
        }
    }

    @Test
    void options_fromQuery() {
        S3Storage.Builder b = S3StorageProvider.builder(URI.create(
                "s3://bkt/p?part-size=8MiB&max-concurrency=6&storage-class.data=STANDARD_IA&sse=aws:kms"
                        + "&sse-kms-key-id=alias/backups&checksum=SHA256&conditional-writes=head-before-put&max-attempts=9"));
        try (S3Storage s = b.build()) {
            assertEquals(8L << 20, s.partSize());
            assertEquals(6, s.maxConcurrency());
            assertEquals("p/", s.prefix());
        }
    }

    @Test
    void bucketRoot_hasEmptyPrefix() {
        try (S3Storage s = S3StorageProvider.builder(URI.create("s3://bucket-only")).build()) {
            assertEquals("", s.prefix());
            assertEquals("s3://bucket-only/", s.location());
        }
    }

    @ParameterizedTest
    @CsvSource({
            "s3://AKIAXXXX:hunter2@bucket/p, hunter2",
            "s3://bucket/p?secret-key=hunter2, hunter2",
            "s3://bucket/p?aws_secret_access_key=hunter2, hunter2",
            "s3://bucket/p?session-token=hunter2, hunter2"})
    void credentialsInTheLocation_areRefused_withoutEchoingThem(String location, String secret) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Storages.open(location));
        assertTrue(e.getMessage().contains("not accepted"), e.getMessage());
        assertFalse(e.getMessage().contains(secret), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "s3://bucket/p?colour=blue | unknown parameter 'colour'",
            "s3://bucket/p?part-size=1MiB | part size",
            "s3://bucket/p?storage-class=SHINY | invalid value 'SHINY'",
            "s3://bucket/p?path-style=maybe | invalid value 'maybe'",
            "s3://bucket/p?storage-class.data=GLACIER | needs a restore",
            "s3://bucket/p?endpoint=not-a-url | invalid S3 endpoint"})
    void badParameters_areConfigurationErrors(String location, String expected) {
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Storages.open(location));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void missingBucket_isConfigurationError() {
        assertThrows(ConfigurationException.class, () -> S3StorageProvider.builder(URI.create("s3:///p")));
    }

    @ParameterizedTest
    @CsvSource({"config, CONFIG", "keys/abc, KEYS", "data/3f/3fa2, DATA", "index/1, INDEX", "snapshots/9, SNAPSHOTS",
            "locks/l, LOCKS", "wal/00000001/000000010000000000000001, WAL", "config/x, OTHER", "misc, OTHER"})
    void objectKind_fromName(String name, ObjectKind kind) {
        assertEquals(kind, ObjectKind.of(name));
    }
}
