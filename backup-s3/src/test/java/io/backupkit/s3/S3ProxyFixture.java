package io.backupkit.s3;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.Constants;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real S3 endpoint for tests: S3Proxy 4.1.0 in-process, in-memory ("transient") blob store, AWS
 * v2/v4 signature checking with its own credentials, on 127.0.0.1 and a free port. Use it as a JUnit 5
 * extension ({@code @RegisterExtension static S3ProxyFixture s3 = new S3ProxyFixture();}, started
 * before all tests of the class and stopped after) or as an {@link AutoCloseable} ({@code start()} /
 * {@code close()}).
 *
 * <p>S3Proxy checks signatures, checksums and conditional writes ({@code If-None-Match: *}) like S3;
 * it accepts but does not enforce Object Lock headers ({@code ignoreUnknownHeaders}).
 *
 * <pre>{@code
 * try (S3ProxyFixture s3 = new S3ProxyFixture().start()) {
 *     Storage storage = s3.storage(s3.newBucket()).build();
 * }
 * }</pre>
 */
public final class S3ProxyFixture implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private final String accessKey = "backupkit-test";
    private final String secretKey = "s3proxy-secret-" + UUID.randomUUID();
    private BlobStore blobStore;
    private S3Proxy proxy;
    private URI endpoint;
    private S3Client client;

    private boolean authenticate = true;
    private java.nio.file.Path keyStore;
    private String keyStorePassword;

    /**
     * S3Proxy without signature checks, so that a proxy in front may change signed headers (for
     * example drop {@code If-None-Match} to play a store that ignores it). Call before {@link #start()}.
     */
    public S3ProxyFixture withoutAuthentication() {
        this.authenticate = false;
        return this;
    }

    /**
     * S3Proxy also serves {@code https} ({@link #secureEndpoint()}) with the key and certificate in {@code keyStore}
     * (PKCS12, see {@link SelfSignedCertificate}). Call before {@link #start()}.
     */
    public S3ProxyFixture withTls(java.nio.file.Path keyStore, String password) {
        this.keyStore = keyStore;
        this.keyStorePassword = password;
        return this;
    }

    /** Starts S3Proxy (idempotent). */
    public synchronized S3ProxyFixture start() {
        if (proxy != null) {
            return this;
        }
        Properties props = new Properties();
        props.setProperty(Constants.PROPERTY_IDENTITY, accessKey);
        props.setProperty(Constants.PROPERTY_CREDENTIAL, secretKey);
        blobStore = BlobStores.create("transient", props);
        S3Proxy.Builder builder = S3Proxy.builder();
        if (keyStore != null) {
            builder.secureEndpoint(URI.create("https://127.0.0.1:0")).keyStore(keyStore.toString(), keyStorePassword);
        }
        proxy = builder
                .blobStore(blobStore)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(authenticate ? AuthenticationType.AWS_V2_OR_V4 : AuthenticationType.NONE, accessKey, secretKey)
                // Object Lock and a few other headers S3Proxy does not model are accepted, not enforced
                .ignoreUnknownHeaders(true)
                .jettyMaxThreads(64)
                .stopTimeout(0)
                .build();
        try {
            proxy.start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
                }
                Thread.sleep(10);
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot start S3Proxy", e);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        client = S3Client.builder()
                .endpointOverride(endpoint)
                .forcePathStyle(true)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .build();
        return this;
    }

    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return proxy.getPort();
    }

    /** The {@code https} endpoint of an S3Proxy started {@link #withTls}. */
    public URI secureEndpoint() {
        if (keyStore == null) {
            throw new IllegalStateException("S3Proxy serves https only when started withTls(…)");
        }
        return URI.create("https://127.0.0.1:" + proxy.getSecurePort());
    }

    public String accessKey() {
        return accessKey;
    }

    /** The secret S3Proxy checks signatures with; tests assert it never shows up in messages. */
    public String secretKey() {
        return secretKey;
    }

    /** A raw SDK client on the proxy, for setup and for comparisons. */
    public S3Client client() {
        return client;
    }

    /** Creates a fresh, empty bucket and returns its name. */
    public String newBucket() {
        String name = "bk-" + BUCKETS.incrementAndGet() + "-" + UUID.randomUUID().toString().substring(0, 8);
        client.createBucket(b -> b.bucket(name));
        return name;
    }

    /** A storage builder for {@code bucket} on this proxy (endpoint, path style, credentials set). */
    public S3Storage.Builder storage(String bucket) {
        return storage(bucket, endpoint);
    }

    /** Like {@link #storage(String)} but through another endpoint (a fault-injecting proxy in front). */
    public S3Storage.Builder storage(String bucket, URI via) {
        return S3Storage.builder()
                .bucket(bucket)
                .region("us-east-1")
                .endpointOverride(via)
                .pathStyle(true)
                .credentials(accessKey, secretKey);
    }

    @Override
    public synchronized void close() {
        if (proxy == null) {
            return;
        }
        try {
            client.close();
            proxy.stop();
            blobStore.close();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy", e);
        } finally {
            proxy = null;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }
}
