package io.backupkit.s3;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import io.backupkit.s3.internal.Checksums;
import io.backupkit.s3.internal.HttpsEndpointProxy;
import io.backupkit.s3.internal.ObjectInputStream;
import io.backupkit.s3.internal.PartBuffers;
import io.backupkit.s3.internal.ReadChecksum;
import io.backupkit.s3.internal.S3Errors;
import io.backupkit.s3.internal.TlsOnFirstUse;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.ObjectLockLegalHoldStatus;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.StorageClass;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@link Storage} in an S3 bucket (AWS S3 or any S3-compatible store), on AWS SDK v2.
 *
 * <ul>
 *   <li>Large objects go up as multipart uploads whose parts ({@link Builder#partSize(long) partSize}
 *       or a little more) are sent in parallel. Memory stays bounded: an in-memory payload is sliced without a
 *       copy; a streaming payload is read into at most {@link Builder#maxConcurrency(int) maxConcurrency}
 *       part buffers, storage-wide. A failed upload is aborted, so nothing half-written is ever visible.</li>
 *   <li>Objects are never replaced: writes carry {@code If-None-Match: *} (see {@link ConditionalWrites}).
 *       Each write also carries a random write id in its metadata, so a write whose response was lost and
 *       whose retry then meets "already exists" can tell its own object from someone else's.</li>
 *   <li>Retries (throttling, 5xx, connection resets) are the SDK's retry strategy, configured here;
 *       every upload carries a CRC32C checksum the store checks, and whole-object reads check it back.
 *       A listing whose answer was cut off mid-body (which the SDK does not retry) is listed again whole;
 *       a listing is complete or an exception, never partial.</li>
 *   <li>Storage class, server-side encryption (SSE-S3, SSE-KMS) and Object Lock are chosen per
 *       {@link ObjectKind}.</li>
 * </ul>
 *
 * <pre>{@code
 * Storage storage = S3Storage.builder()
 *         .bucket("acme-backups").prefix("shop/")
 *         .region("eu-west-1")
 *         .storageClass(ObjectKind.DATA, StorageClass.STANDARD_IA)
 *         .serverSideEncryptionKms("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-…")
 *         .build();
 * Repository repo = Repository.builder().storage(storage).password(pw).openOrCreate();
 * }</pre>
 *
 * <p>Thread-safe; share one instance. {@link #close()} releases its connections and threads.
 */
public final class S3Storage implements Storage {
    private static final Logger log = LoggerFactory.getLogger(S3Storage.class);
    /** S3's smallest allowed part (except the last). */
    public static final long MIN_PART_SIZE = 5L * 1024 * 1024;
    /** S3's largest allowed part. */
    public static final long MAX_PART_SIZE = 5L * 1024 * 1024 * 1024;
    private static final int MAX_PARTS = 10_000;
    private static final int DELETE_BATCH = 1000;
    /** User metadata key holding the random id of the write that created an object. */
    static final String WRITE_ID_METADATA = "backupkit-write-id";

    private final Builder settings;
    private final String bucket;
    private final String rootPrefix;
    private final String location;
    private final String endpointDescription;
    private final S3Client client;
    private final AwsCredentialsProvider ownedCredentials;
    private final ExecutorService partExecutor;
    private final Semaphore partPermits;
    private final PartBuffers partBuffers = new PartBuffers();
    private final S3Errors errors;
    private final AtomicBoolean ifNoneMatchUnsupported = new AtomicBoolean();
    /** Whether the store refuses to overwrite on If-None-Match; null until probed. */
    private volatile Boolean conditionalWritesHonoured;
    private final Object probeLock = new Object();
    /** Where the conditional-write probe writes, under the prefix; never a repository object name. */
    static final String PROBE_PREFIX = ".probes/conditional-write-";
    private final AtomicBoolean closed = new AtomicBoolean();

    private S3Storage(Builder b) {
        this.settings = b.copy();
        this.bucket = b.bucket;
        this.rootPrefix = b.prefix;
        this.location = location(b);
        this.endpointDescription = b.endpointOverride != null ? b.endpointOverride.toString()
                : "AWS S3 (" + (b.region == null ? "us-east-1" : b.region) + ")";
        this.errors = new S3Errors(bucket, endpointDescription, location);

        AwsCredentialsProvider credentials = b.credentialsProvider;
        if (credentials == null) {
            DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build();
            credentials = chain;
            this.ownedCredentials = chain;
        } else {
            this.ownedCredentials = null;
        }

        RetryStrategy retry = b.retryMode.name().startsWith("ADAPTIVE")
                ? AwsRetryStrategy.adaptiveRetryStrategy().toBuilder().maxAttempts(b.maxAttempts).build()
                // A backup pushes thousands of requests; the standard strategy's circuit breaker would
                // stop retrying for the whole client after a burst of faults. Backoff still applies.
                : AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(b.maxAttempts)
                        .circuitBreakerEnabled(false).build();
        ClientOverrideConfiguration.Builder override = ClientOverrideConfiguration.builder().retryStrategy(retry);
        b.interceptors.forEach(override::addExecutionInterceptor);

        Apache5HttpClient.Builder http = Apache5HttpClient.builder()
                .maxConnections(b.maxConnections > 0 ? b.maxConnections : Math.max(64, 2 * b.maxConcurrency + 16))
                // readers hold a connection while they stream; waiting for one is not a failure
                .connectionAcquisitionTimeout(Duration.ofMinutes(2))
                .connectionTimeout(b.connectionTimeout);
        if (b.endpointOverride != null && "http".equalsIgnoreCase(b.endpointOverride.getScheme())) {
            // a plain-http endpoint: no SSLContext and trust store parsed at every client's construction; its proxy
            // is the SDK's own choice, http.proxyHost or HTTP_PROXY
            http.tlsSocketStrategy(new TlsOnFirstUse());
        } else {
            // the SDK alone never reads https.proxyHost / HTTPS_PROXY; where neither is set, its own choice stands
            HttpsEndpointProxy.fromJvmAndEnvironment(endpointDescription).ifPresent(http::proxyConfiguration);
        }
        S3ClientBuilder cb = S3Client.builder()
                .httpClientBuilder(http)
                .credentialsProvider(credentials)
                .region(Region.of(b.region == null ? "us-east-1" : b.region))
                .forcePathStyle(b.pathStyle)
                .overrideConfiguration(override.build())
                .requestChecksumCalculation(b.checksumAlgorithm == null
                        ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED)
                // whole-object reads are checked by ReadChecksum, which also covers resumed reads and
                // reports a mismatch as ChecksumMismatchException; the SDK's check would do neither
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (b.endpointOverride != null) {
            cb.endpointOverride(b.endpointOverride);
        } else if (b.region == null) {
            // no region given: let requests find the bucket's region instead of failing with a redirect
            cb.crossRegionAccessEnabled(true);
        }
        this.client = cb.build();

        this.partPermits = new Semaphore(b.maxConcurrency);
        AtomicInteger threadNo = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "backupkit-s3-part-" + threadNo.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.partExecutor = Executors.newFixedThreadPool(b.maxConcurrency, threads);
    }

    /** A new builder; {@link Builder#bucket(String)} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder with this storage's settings, to make a variant (it opens its own client). */
    public Builder toBuilder() {
        return settings.copy();
    }

    public String bucket() {
        return bucket;
    }

    /** The key prefix under which the repository lives ("" or ending in '/'). */
    public String prefix() {
        return rootPrefix;
    }

    public long partSize() {
        return settings.partSize;
    }

    public int maxConcurrency() {
        return settings.maxConcurrency;
    }

    /** Most streaming part buffers held at once so far; never exceeds {@link #maxConcurrency()}. */
    int peakPartBuffersInUse() {
        return partBuffers.peakInUse();
    }

    /** Part buffers allocated so far (reused between uploads). */
    int partBuffersAllocated() {
        return partBuffers.allocated();
    }

    @Override
    public String location() {
        return location;
    }

    private static String location(Builder b) {
        StringBuilder s = new StringBuilder("s3://").append(b.bucket).append('/').append(b.prefix);
        List<String> q = new ArrayList<>();
        if (b.region != null) {
            q.add("region=" + b.region);
        }
        if (b.endpointOverride != null) {
            q.add("endpoint=" + URLEncoder.encode(b.endpointOverride.toString(), StandardCharsets.UTF_8));
        }
        if (b.pathStyle) {
            q.add("path-style=true");
        }
        if (!q.isEmpty()) {
            s.append('?').append(String.join("&", q));
        }
        return s.toString();
    }

    private String key(String name) {
        if (name == null || name.isEmpty() || name.startsWith("/") || name.contains("//") || name.contains("\\")) {
            throw new ConfigurationException("invalid object name '" + name + "' for " + location);
        }
        for (String part : name.split("/")) {
            if (part.equals("..") || part.equals(".")) {
                throw new ConfigurationException("invalid object name '" + name + "' for " + location);
            }
        }
        return rootPrefix + name;
    }

    // ---------------------------------------------------------------------------------------------
    // writing

    /**
     * True when {@code putIfAbsent} keeps concurrent writers of one name apart: conditional writes are
     * configured and the store honours them. The first call (or the first write) finds out by writing a
     * probe object twice with {@code If-None-Match: *}; the second write must be refused. A store that
     * accepts it ignores the header: writes then fall back to HEAD before PUT, with a warning, and this
     * returns false (exclusive repository locks are refused).
     */
    @Override
    public boolean atomicPutIfAbsent() {
        checkOpen();
        return conditionalWrites(null);
    }

    /**
     * Whether writes go with {@code If-None-Match: *}: configured, honoured (probed once), and not answered
     * 501 by a write since. A store that ignores If-None-Match would silently replace existing objects.
     *
     * @param forName the object whose write needs the answer (named in errors), or null
     */
    private boolean conditionalWrites(String forName) {
        return settings.conditionalWrites == ConditionalWrites.IF_NONE_MATCH && conditionalWritesHonoured(forName)
                && !ifNoneMatchUnsupported.get();
    }

    /** @param forName the object whose write needs the answer (named in errors), or null */
    private boolean conditionalWritesHonoured(String forName) {
        Boolean known = conditionalWritesHonoured;
        if (known != null) {
            return known;
        }
        synchronized (probeLock) {
            if (conditionalWritesHonoured == null) {
                boolean honoured = probeConditionalWrites(forName);
                if (!honoured && ifNoneMatchUnsupported.compareAndSet(false, true)) {
                    log.warn("{} ignores conditional writes (If-None-Match): a probe object written twice was replaced instead"
                            + " of refused. Writes fall back to HEAD before PUT, which cannot keep two concurrent writers of one"
                            + " name apart, and exclusive locks (prune) are refused on {}", endpointDescription, location);
                }
                conditionalWritesHonoured = honoured;
            }
            return conditionalWritesHonoured;
        }
    }

    /**
     * Writes one small probe object twice with {@code If-None-Match: *} and removes it: true when the
     * second write is refused (412, or 409 for a conflict the store detected), false when the store
     * accepts it (ignores the header) or answers 501. The probe carries no Object Lock or storage
     * class (it must stay deletable); it carries the configured server-side encryption and checksum,
     * which bucket policies may demand.
     */
    private boolean probeConditionalWrites(String forName) {
        if (ifNoneMatchUnsupported.get()) {
            return false;
        }
        String key = rootPrefix + PROBE_PREFIX + UUID.randomUUID();
        byte[] body = "backupkit conditional-write probe; safe to delete".getBytes(StandardCharsets.US_ASCII);
        boolean written = false;
        try {
            String first = UUID.randomUUID().toString();
            try {
                probeWrite(key, body, first);
                written = true;
            } catch (SdkException e) {
                int status = S3Errors.status(e);
                String code = S3Errors.code(e);
                if (status == 501 || code.equals("NotImplemented")) {
                    return notImplemented();
                }
                // 412 on the first write: an earlier attempt of this very write got through and its answer was lost
                if (!((status == 412 || code.equals("PreconditionFailed")) && ownedBy(key, key, first))) {
                    throw probeFailed(e, forName, key);
                }
                written = true;
            }
            try {
                probeWrite(key, body, UUID.randomUUID().toString());
                return false; // accepted over an existing object: the header is ignored
            } catch (SdkException e) {
                int status = S3Errors.status(e);
                String code = S3Errors.code(e);
                if (status == 412 || code.equals("PreconditionFailed") || status == 409 || code.equals("ConditionalRequestConflict")) {
                    return true;
                }
                if (status == 501 || code.equals("NotImplemented")) {
                    return notImplemented();
                }
                throw probeFailed(e, forName, key);
            }
        } finally {
            // not after a failed first write: the store is failing, more requests only add delay
            try {
                if (written) {
                    client.deleteObject(r -> r.bucket(bucket).key(key));
                }
            } catch (SdkException e) {
                log.warn("could not remove the conditional-write probe {} from bucket '{}': {}; it is safe to delete", key, bucket,
                        S3Errors.code(e).isEmpty() ? e.getClass().getSimpleName() : S3Errors.code(e));
            }
        }
    }

    /** The store failed the probe: for a write, that write failed (named as such); otherwise the probe did. */
    private BackupException probeFailed(SdkException e, String forName, String key) {
        return forName != null ? errors.map(e, "writing", forName)
                : errors.map(e, "checking conditional writes with", key.substring(rootPrefix.length()));
    }

    private boolean notImplemented() {
        if (ifNoneMatchUnsupported.compareAndSet(false, true)) {
            log.warn("{} does not support conditional writes (If-None-Match answered 501); falling back to HEAD before PUT,"
                    + " which cannot keep two concurrent writers of the same name apart; exclusive locks (prune) are refused",
                    endpointDescription);
        }
        return false;
    }

    private void probeWrite(String key, byte[] body, String writeId) {
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(key).contentLength((long) body.length)
                .metadata(Map.of(WRITE_ID_METADATA, writeId)).ifNoneMatch("*");
        if (settings.checksumAlgorithm != null) {
            req.checksumAlgorithm(settings.checksumAlgorithm);
            setChecksum(req, body, 0, body.length);
        }
        if (settings.sse != null) {
            req.serverSideEncryption(settings.sse);
            if (settings.sseKmsKeyId != null) {
                req.ssekmsKeyId(settings.sseKmsKeyId);
            }
        }
        client.putObject(req.build(), RequestBody.fromBytes(body));
    }

    /**
     * True: the synchronous client sends a body on the calling thread, its retries included, and a multipart
     * upload waits for every part it started before it returns, also when one failed ({@code uploadParts});
     * the SDK keeps no request body after the call.
     */
    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return true;
    }

    @Override
    public boolean putIfAbsent(String name, Payload payload) {
        String key = key(name);
        checkOpen();
        boolean conditional = conditionalWrites(name);
        if (!conditional && exists(name, key)) {
            return false;
        }
        return write(name, key, payload, conditional);
    }

    /**
     * For names chosen at random (lock objects): the write carries {@code If-None-Match: *} at once, without
     * the one-time probe {@link #putIfAbsent} needs first (three requests before a restore's lock). Whether
     * the store honours the header does not matter for such a name: no other writer uses it. A store known
     * not to support the header (answered 501, or failed the probe) or configured HEAD before PUT gets what
     * {@code putIfAbsent} does; a 501 to this write switches to HEAD before PUT as there.
     */
    @Override
    public boolean putNew(String name, Payload payload) {
        String key = key(name);
        checkOpen();
        if (settings.conditionalWrites != ConditionalWrites.IF_NONE_MATCH || ifNoneMatchUnsupported.get()
                || Boolean.FALSE.equals(conditionalWritesHonoured)) {
            return putIfAbsent(name, payload);
        }
        return write(name, key, payload, true);
    }

    /** One write, conditional or not; a 501 to the condition falls back to {@link #putIfAbsent} without it. */
    private boolean write(String name, String key, Payload payload, boolean conditional) {
        String writeId = UUID.randomUUID().toString();
        try {
            if (!multipart(payload)) {
                putSingle(name, key, payload, writeId, conditional);
            } else {
                putMultipart(name, key, payload, writeId, conditional);
            }
            return true;
        } catch (SdkException e) {
            int status = S3Errors.status(e);
            String code = S3Errors.code(e);
            if (conditional && (status == 412 || code.equals("PreconditionFailed"))) {
                // the name exists; it may be ours if an earlier attempt's response was lost and the SDK retried
                return ownedBy(name, key, writeId);
            }
            if (conditional && (status == 409 || code.equals("ConditionalRequestConflict"))) {
                // another conditional write to the same name is completing right now
                Optional<String> owner = writeIdOf(name, key);
                if (owner.isPresent()) {
                    return owner.get().equals(writeId);
                }
                throw new StorageException("writing " + name + " in bucket '" + bucket + "' at " + endpointDescription
                        + " conflicted with a concurrent write of the same name; try again", true, e);
            }
            if (conditional && (status == 501 || code.equals("NotImplemented"))) {
                notImplemented();
                return putIfAbsent(name, payload);
            }
            throw errors.map(e, "writing", name);
        }
    }

    /** Whether {@code key} exists and was written by the write with {@code writeId}. */
    private boolean ownedBy(String name, String key, String writeId) {
        return writeIdOf(name, key).map(writeId::equals).orElse(false);
    }

    private Optional<String> writeIdOf(String name, String key) {
        try {
            HeadObjectResponse head = client.headObject(r -> r.bucket(bucket).key(key));
            return Optional.of(Objects.requireNonNullElse(head.metadata().get(WRITE_ID_METADATA), ""));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404) {
                return Optional.empty();
            }
            throw errors.map(e, "checking", name);
        }
    }

    private boolean exists(String name, String key) {
        return writeIdOf(name, key).isPresent();
    }

    private void putSingle(String name, String key, Payload payload, String writeId, boolean conditional) {
        PutObjectRequest.Builder req = PutObjectRequest.builder().bucket(bucket).key(key)
                .contentLength(payload.length())
                .metadata(Map.of(WRITE_ID_METADATA, writeId));
        if (conditional) {
            req.ifNoneMatch("*");
        }
        if (settings.checksumAlgorithm != null) {
            req.checksumAlgorithm(settings.checksumAlgorithm);
        }
        ObjectKind kind = ObjectKind.of(name);
        StorageClass storageClass = settings.storageClasses.get(kind);
        if (storageClass != null) {
            req.storageClass(storageClass);
        }
        if (settings.sse != null) {
            req.serverSideEncryption(settings.sse);
            if (settings.sseKmsKeyId != null) {
                req.ssekmsKeyId(settings.sseKmsKeyId);
            }
        }
        if (settings.objectLockKinds.contains(kind)) {
            if (settings.objectLockMode != null) {
                req.objectLockMode(settings.objectLockMode).objectLockRetainUntilDate(retainUntil());
            }
            if (settings.legalHold) {
                req.objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON);
            }
        }
        if (payload instanceof Payload.ArrayPayload a) {
            setChecksum(req, a.array(), a.offset(), a.arrayLength());
        }
        client.putObject(req.build(), body(payload));
    }

    /**
     * For bytes in memory the checksum goes in a header, computed here: the store checks it before the
     * object lands and keeps it, so whole-object reads are checked against it again. Streamed bodies
     * get the SDK's trailing checksum instead (checked by the store, not kept by every store).
     */
    private void setChecksum(PutObjectRequest.Builder req, byte[] b, int off, int len) {
        String value = Checksums.compute(settings.checksumAlgorithm, b, off, len);
        if (value != null) {
            switch (settings.checksumAlgorithm) {
                case CRC32_C -> req.checksumCRC32C(value);
                case CRC32 -> req.checksumCRC32(value);
                case SHA256 -> req.checksumSHA256(value);
                case SHA1 -> req.checksumSHA1(value);
                default -> { }
            }
        }
    }

    private void setChecksum(UploadPartRequest.Builder req, byte[] b, int off, int len) {
        String value = Checksums.compute(settings.checksumAlgorithm, b, off, len);
        if (value != null) {
            switch (settings.checksumAlgorithm) {
                case CRC32_C -> req.checksumCRC32C(value);
                case CRC32 -> req.checksumCRC32(value);
                case SHA256 -> req.checksumSHA256(value);
                case SHA1 -> req.checksumSHA1(value);
                default -> { }
            }
        }
    }

    private Instant retainUntil() {
        return settings.retainUntil != null ? settings.retainUntil : Instant.now().plus(settings.retention);
    }

    /** A re-openable body, so the SDK can retry it; in-memory payloads are not copied. */
    private static RequestBody body(Payload payload) {
        long length = payload.length();
        if (payload instanceof Payload.ArrayPayload a) {
            return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(a.array(), a.offset(), a.arrayLength()),
                    length, "application/octet-stream");
        }
        return RequestBody.fromContentProvider(() -> {
            try {
                return payload.open();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, length, "application/octet-stream");
    }

    /**
     * Whether {@code payload} goes up as a multipart upload. In-memory payloads are split only when they
     * make at least two parts of at least {@code partSize}: a pack of 16.1 MiB with 16 MiB parts is one
     * PutObject, not four requests (create, 16 MiB, 0.1 MiB, complete) — requests cost money and time.
     * Streamed payloads are split as soon as they exceed one part, since their parts are buffered.
     */
    private boolean multipart(Payload payload) {
        return payload instanceof Payload.ArrayPayload
                ? payload.length() >= 2 * settings.partSize
                : payload.length() > settings.partSize;
    }

    /** Part length for a multipart upload of {@code payload}. */
    private long partLength(Payload payload) {
        long length = payload.length();
        if (payload instanceof Payload.ArrayPayload) {
            // equal parts of at least partSize: 64.2 MiB with 16 MiB parts is 4 parts of 16.05 MiB, not 5
            long parts = Math.max(1, Math.min(MAX_PARTS, length / settings.partSize));
            return (length + parts - 1) / parts;
        }
        return effectivePartSize(length);
    }

    private long effectivePartSize(long length) {
        long size = settings.partSize;
        // S3 allows 10,000 parts: grow the part size for objects that would need more
        long needed = (length + MAX_PARTS - 1) / MAX_PARTS;
        if (needed > size) {
            size = Math.min(MAX_PART_SIZE, ((needed + MIN_PART_SIZE - 1) / MIN_PART_SIZE) * MIN_PART_SIZE);
        }
        return size;
    }

    private void putMultipart(String name, String key, Payload payload, String writeId, boolean conditional) {
        long length = payload.length();
        long partSize = partLength(payload);
        int partCount = (int) ((length + partSize - 1) / partSize);
        if (partSize > Integer.MAX_VALUE - 16) {
            throw new ConfigurationException("object " + name + " of " + length + " bytes needs parts over 2 GiB; not supported");
        }
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(bucket).key(key)
                .metadata(Map.of(WRITE_ID_METADATA, writeId));
        if (settings.checksumAlgorithm != null) {
            create.checksumAlgorithm(settings.checksumAlgorithm);
        }
        ObjectKind kind = ObjectKind.of(name);
        StorageClass storageClass = settings.storageClasses.get(kind);
        if (storageClass != null) {
            create.storageClass(storageClass);
        }
        if (settings.sse != null) {
            create.serverSideEncryption(settings.sse);
            if (settings.sseKmsKeyId != null) {
                create.ssekmsKeyId(settings.sseKmsKeyId);
            }
        }
        if (settings.objectLockKinds.contains(kind)) {
            if (settings.objectLockMode != null) {
                create.objectLockMode(settings.objectLockMode).objectLockRetainUntilDate(retainUntil());
            }
            if (settings.legalHold) {
                create.objectLockLegalHoldStatus(ObjectLockLegalHoldStatus.ON);
            }
        }
        String uploadId = client.createMultipartUpload(create.build()).uploadId();
        boolean completed = false;
        try {
            List<CompletedPart> parts = uploadParts(name, key, uploadId, payload, partSize, partCount);
            CompleteMultipartUploadRequest.Builder complete = CompleteMultipartUploadRequest.builder()
                    .bucket(bucket).key(key).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build());
            if (conditional) {
                complete.ifNoneMatch("*");
            }
            try {
                client.completeMultipartUpload(complete.build());
            } catch (SdkException e) {
                if (S3Errors.code(e).equals("NoSuchUpload") && ownedBy(name, key, writeId)) {
                    // the completion succeeded, its response was lost, and the SDK's retry found the upload gone
                    completed = true;
                    return;
                }
                throw e;
            }
            completed = true;
        } finally {
            if (!completed) {
                abort(name, key, uploadId);
            }
        }
    }

    private void abort(String name, String key, String uploadId) {
        try {
            client.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId));
        } catch (SdkException e) {
            if (S3Errors.code(e).equals("NoSuchUpload")) {
                return; // already completed (answer lost, then refused on retry) or aborted: nothing left over
            }
            // the parts stay invisible (no object exists) but cost storage until a lifecycle rule removes them
            log.warn("could not abort multipart upload {} of {} in {}: {}; add a lifecycle rule that aborts incomplete"
                    + " multipart uploads", uploadId, name, location, e.getMessage());
        }
    }

    private List<CompletedPart> uploadParts(String name, String key, String uploadId, Payload payload,
                                            long partSize, int partCount) {
        List<CompletableFuture<CompletedPart>> futures = new ArrayList<>(partCount);
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        try {
            if (payload instanceof Payload.ArrayPayload a) {
                for (int i = 0; i < partCount && firstFailure.get() == null; i++) {
                    int off = (int) (a.offset() + i * partSize);
                    int len = (int) Math.min(partSize, a.arrayLength() - i * partSize);
                    acquirePermit(name);
                    int partNumber = i + 1;
                    futures.add(submitPart(key, uploadId, partNumber, a.array(), off, len, false, firstFailure));
                }
            } else {
                try (InputStream in = payload.open()) {
                    long remaining = payload.length();
                    for (int i = 0; i < partCount && firstFailure.get() == null; i++) {
                        int len = (int) Math.min(partSize, remaining);
                        acquirePermit(name);
                        byte[] buffer = partBuffers.take((int) partSize);
                        try {
                            int n = in.readNBytes(buffer, 0, len);
                            if (n != len) {
                                throw new StorageException("payload for " + name + " ended after " + (payload.length() - remaining + n)
                                        + " of " + payload.length() + " bytes", false);
                            }
                        } catch (IOException | RuntimeException e) {
                            partBuffers.give(buffer);
                            partPermits.release();
                            throw e;
                        }
                        remaining -= len;
                        futures.add(submitPart(key, uploadId, i + 1, buffer, 0, len, true, firstFailure));
                    }
                    if (firstFailure.get() == null && in.read() >= 0) {
                        throw new StorageException("payload for " + name + " is longer than its declared "
                                + payload.length() + " bytes", false);
                    }
                }
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).join();
        } catch (CompletionException e) {
            throw unwrap(e);
        } catch (IOException e) {
            throw new StorageException("reading the payload for " + name + " failed: " + e.getMessage(), false, e);
        } finally {
            // never leave a part running after we return: the caller may abort the upload
            for (CompletableFuture<CompletedPart> f : futures) {
                try {
                    f.join();
                } catch (CompletionException | java.util.concurrent.CancellationException ignored) {
                    // reported through firstFailure / the join above
                }
            }
        }
        Throwable failure = firstFailure.get();
        if (failure != null) {
            throw unwrap(failure);
        }
        List<CompletedPart> parts = new ArrayList<>(futures.size());
        for (CompletableFuture<CompletedPart> f : futures) {
            parts.add(f.join());
        }
        parts.sort(Comparator.comparingInt(CompletedPart::partNumber));
        return parts;
    }

    private void acquirePermit(String name) {
        try {
            partPermits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StorageException("interrupted while uploading " + name + " to " + location, true);
        }
    }

    /** Uploads {@code bytes[off, off+len)} as one part; {@code pooled} buffers go back to the pool afterwards. */
    private CompletableFuture<CompletedPart> submitPart(String key, String uploadId, int partNumber, byte[] bytes, int off,
                                                        int len, boolean pooled, AtomicReference<Throwable> firstFailure) {
        byte[] buffer = pooled ? bytes : null;
        CompletableFuture<CompletedPart> f;
        try {
            f = CompletableFuture.supplyAsync(() -> uploadPart(key, uploadId, partNumber, bytes, off, len), partExecutor);
        } catch (RuntimeException e) {
            releasePart(buffer);
            throw e;
        }
        return f.whenComplete((part, failure) -> {
            releasePart(buffer);
            if (failure != null) {
                firstFailure.compareAndSet(null, failure);
            }
        });
    }

    private void releasePart(byte[] buffer) {
        if (buffer != null) {
            partBuffers.give(buffer);
        }
        partPermits.release();
    }

    private CompletedPart uploadPart(String key, String uploadId, int partNumber, byte[] bytes, int off, int len) {
        UploadPartRequest.Builder req = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                .partNumber(partNumber).contentLength((long) len);
        if (settings.checksumAlgorithm != null) {
            req.checksumAlgorithm(settings.checksumAlgorithm);
            setChecksum(req, bytes, off, len);
        }
        UploadPartResponse r = client.uploadPart(req.build(), RequestBody.fromContentProvider(
                () -> new ByteArrayInputStream(bytes, off, len), len, "application/octet-stream"));
        return CompletedPart.builder().partNumber(partNumber).eTag(r.eTag())
                .checksumCRC32(r.checksumCRC32()).checksumCRC32C(r.checksumCRC32C())
                .checksumCRC64NVME(r.checksumCRC64NVME())
                .checksumSHA1(r.checksumSHA1()).checksumSHA256(r.checksumSHA256())
                .build();
    }

    private static RuntimeException unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new StorageException(t.toString(), true, t);
    }

    // ---------------------------------------------------------------------------------------------
    // reading

    @Override
    public InputStream get(String name) {
        String key = key(name);
        checkOpen();
        ResponseInputStream<GetObjectResponse> in;
        try {
            // the header, not checksumMode(ENABLED): the store sends the recorded checksum and we check it
            // (ReadChecksum, also across resumed reads); the SDK's own check would see one response only
            in = client.getObject(GetObjectRequest.builder().bucket(bucket).key(key)
                    .overrideConfiguration(o -> o.putHeader("x-amz-checksum-mode", "ENABLED")).build());
        } catch (SdkException e) {
            throw errors.map(e, "reading", name);
        }
        long length = in.response().contentLength() == null ? -1 : in.response().contentLength();
        return stream(in, name, key, 0, length, ReadChecksum.of(in.response()));
    }

    private InputStream stream(ResponseInputStream<GetObjectResponse> in, String name, String key, long offset, long length,
                               ReadChecksum checksum) {
        String etag = in.response().eTag();
        ObjectInputStream.Reopener reopener = length < 0 || etag == null ? null : position ->
                client.getObject(GetObjectRequest.builder().bucket(bucket).key(key).ifMatch(etag)
                        .range("bytes=" + (offset + position) + "-" + (offset + length - 1)).build());
        return new ObjectInputStream(in, name, offset, Math.max(0, length), reopener, settings.maxAttempts - 1, checksum,
                (e, n) -> errors.map(e, "reading", n));
    }

    @Override
    public InputStream get(String name, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range " + offset + "+" + length);
        }
        String key = key(name);
        checkOpen();
        if (length == 0) {
            // HTTP cannot ask for zero bytes; still fail the way a real read would
            ObjectInfo info = stat(name).orElseThrow(() -> new ObjectNotFoundException(location, name));
            if (offset > info.size()) {
                throw new StorageException("range " + offset + "+0 beyond end of " + name + " (" + info.size() + " bytes) in " + location, false);
            }
            return InputStream.nullInputStream();
        }
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = client.getObject(GetObjectRequest.builder().bucket(bucket).key(key)
                    .range("bytes=" + offset + "-" + (offset + length - 1)).build());
        } catch (SdkException e) {
            BackupException mapped = errors.map(e, "reading", name);
            if (mapped instanceof ObjectNotFoundException) {
                throw mapped;
            }
            throw errors.map(e, "reading", "bytes " + offset + "+" + length + " of " + name);
        }
        Long got = in.response().contentLength();
        if (got == null || got != length) {
            in.abort();
            throw new StorageException("range " + offset + "+" + length + " beyond end of " + name + " in " + location
                    + " (the store returned " + got + " bytes)", false);
        }
        String range = in.response().contentRange();
        boolean rightBytes = range == null
                // no Content-Range: a 200 with the whole object, right only when that is what was asked for
                ? offset == 0
                : range.strip().startsWith("bytes " + offset + "-" + (offset + length - 1) + "/");
        if (!rightBytes) {
            in.abort();
            throw new StorageException("reading bytes " + offset + "+" + length + " of " + name + " in " + location + " failed: the store"
                    + " answered " + (range == null ? "with the whole object" : "with range '" + range + "'")
                    + " (a store or proxy that does not honour Range)", true);
        }
        return stream(in, name, key, offset, length, null);
    }

    @Override
    public Optional<ObjectInfo> stat(String name) {
        String key = key(name);
        checkOpen();
        try {
            HeadObjectResponse head = client.headObject(r -> r.bucket(bucket).key(key));
            return Optional.of(new ObjectInfo(name, head.contentLength(),
                    head.lastModified() == null ? Instant.EPOCH : head.lastModified()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (SdkException e) {
            if (S3Errors.status(e) == 404 && !S3Errors.code(e).equals("NoSuchBucket")) {
                return Optional.empty();
            }
            throw errors.map(e, "checking", name);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        checkOpen();
        String full = rootPrefix + prefix;
        for (int attempt = 1; ; attempt++) {
            List<ObjectInfo> result = new ArrayList<>();
            try {
                for (S3Object o : client.listObjectsV2Paginator(r -> r.bucket(bucket).prefix(full).maxKeys(1000)).contents()) {
                    String key = o.key();
                    if (key.endsWith("/") || !key.startsWith(rootPrefix)) {
                        continue; // "directory" markers made by consoles and other tools
                    }
                    result.add(new ObjectInfo(key.substring(rootPrefix.length()), o.size(),
                            o.lastModified() == null ? Instant.EPOCH : o.lastModified()));
                }
                return result;
            } catch (SdkException e) {
                // an answer cut off mid-body (the connection dropped) cannot be parsed, and the SDK does not
                // retry that, though it is as transient as a reset before the answer: list again, from the
                // start (what was read is dropped; a partial listing is never returned)
                if (attempt >= settings.maxAttempts || !cutOff(e)) {
                    throw errors.map(e, "listing", "'" + prefix + "'");
                }
            }
        }
    }

    /**
     * An answer the client could not parse (cut off mid-body), not the store's error answer. Resets and
     * other failures the SDK retries itself are not repeated here (that would multiply the attempts).
     */
    private static boolean cutOff(SdkException e) {
        if (!(e instanceof software.amazon.awssdk.core.exception.SdkClientException)) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            // the SDK's XML parser wraps what the cut-off body raised: "Could not parse XML response" with an
            // XMLStreamException as its cause (decided on the type, never on the message)
            if (t instanceof javax.xml.stream.XMLStreamException) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------
    // deleting

    @Override
    public void delete(String name) {
        String key = key(name);
        checkOpen();
        try {
            client.deleteObject(r -> r.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            // deleting a missing object is not an error
        } catch (SdkException e) {
            throw errors.map(e, "deleting", name);
        }
    }

    @Override
    public void delete(Collection<String> names) {
        checkOpen();
        List<String> all = new ArrayList<>(names);
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            List<String> batch = all.subList(from, Math.min(all.size(), from + DELETE_BATCH));
            List<ObjectIdentifier> ids = new ArrayList<>(batch.size());
            for (String n : batch) {
                ids.add(ObjectIdentifier.builder().key(key(n)).build());
            }
            DeleteObjectsResponse r;
            try {
                r = client.deleteObjects(d -> d.bucket(bucket).delete(Delete.builder().objects(ids).quiet(true).build()));
            } catch (SdkException e) {
                throw errors.map(e, "deleting " + batch.size() + " objects starting with", batch.get(0));
            }
            List<S3Error> failed = r.errors().stream().filter(err -> !"NoSuchKey".equals(err.code())).toList();
            if (!failed.isEmpty()) {
                S3Error first = failed.get(0);
                throw new StorageException("deleting " + failed.size() + " of " + batch.size() + " objects in bucket '" + bucket
                        + "' at " + endpointDescription + " failed; first: " + first.key() + " (" + first.code() + ": "
                        + first.message() + ")", failed.stream().anyMatch(err -> "InternalError".equals(err.code())
                        || "SlowDown".equals(err.code())));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("storage " + location + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        partExecutor.shutdown();
        try {
            if (!partExecutor.awaitTermination(30, TimeUnit.SECONDS)) {
                partExecutor.shutdownNow();
            }
        } catch (InterruptedException e) {
            partExecutor.shutdownNow();
            Thread.currentThread().interrupt();
        }
        partBuffers.clear();
        client.close();
        if (ownedCredentials instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // nothing to do about it
            }
        }
    }

    @Override
    public String toString() {
        return "S3Storage[" + location + "]";
    }

    /**
     * Configures an {@link S3Storage}. Not thread-safe; build once, share the storage.
     *
     * <pre>{@code
     * S3Storage storage = S3Storage.builder()
     *         .bucket("backups").prefix("db1/")
     *         .endpointOverride(URI.create("http://127.0.0.1:9000")).pathStyle(true)
     *         .credentials("AKIA…", secret)
     *         .partSize(16 << 20).maxConcurrency(8)
     *         .build();
     * }</pre>
     */
    public static final class Builder {
        private String bucket;
        private String prefix = "";
        private String region;
        private URI endpointOverride;
        private boolean pathStyle;
        private AwsCredentialsProvider credentialsProvider;
        private long partSize = 16L * 1024 * 1024;
        private int maxConcurrency = 4;
        private final Map<ObjectKind, StorageClass> storageClasses = new EnumMap<>(ObjectKind.class);
        private ServerSideEncryption sse;
        private String sseKmsKeyId;
        private ObjectLockMode objectLockMode;
        private Duration retention;
        private Instant retainUntil;
        private boolean legalHold;
        private Set<ObjectKind> objectLockKinds = EnumSet.complementOf(EnumSet.of(ObjectKind.LOCKS));
        private ChecksumAlgorithm checksumAlgorithm = ChecksumAlgorithm.CRC32_C;
        private ConditionalWrites conditionalWrites = ConditionalWrites.IF_NONE_MATCH;
        private RetryMode retryMode = RetryMode.STANDARD;
        private int maxAttempts = 6;
        private Duration connectionTimeout = Duration.ofSeconds(5);
        private int maxConnections;
        private final List<ExecutionInterceptor> interceptors = new ArrayList<>();

        private Builder() {
        }

        private Builder copy() {
            Builder c = new Builder();
            c.bucket = bucket;
            c.prefix = prefix;
            c.region = region;
            c.endpointOverride = endpointOverride;
            c.pathStyle = pathStyle;
            c.credentialsProvider = credentialsProvider;
            c.partSize = partSize;
            c.maxConcurrency = maxConcurrency;
            c.storageClasses.putAll(storageClasses);
            c.sse = sse;
            c.sseKmsKeyId = sseKmsKeyId;
            c.objectLockMode = objectLockMode;
            c.retention = retention;
            c.retainUntil = retainUntil;
            c.legalHold = legalHold;
            c.objectLockKinds = EnumSet.copyOf(objectLockKinds);
            c.checksumAlgorithm = checksumAlgorithm;
            c.conditionalWrites = conditionalWrites;
            c.retryMode = retryMode;
            c.maxAttempts = maxAttempts;
            c.connectionTimeout = connectionTimeout;
            c.maxConnections = maxConnections;
            c.interceptors.addAll(interceptors);
            return c;
        }

        /** The bucket; required. */
        public Builder bucket(String bucket) {
            if (bucket == null || !bucket.matches("[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}")) {
                throw new ConfigurationException("invalid S3 bucket name '" + bucket + "'");
            }
            this.bucket = bucket;
            return this;
        }

        /** Key prefix the repository lives under ("shop/prod"); a trailing '/' is added. Default: bucket root. */
        public Builder prefix(String prefix) {
            String p = prefix == null ? "" : prefix;
            while (p.startsWith("/")) {
                p = p.substring(1);
            }
            if (!p.isEmpty() && !p.endsWith("/")) {
                p = p + "/";
            }
            if (p.contains("//")) {
                throw new ConfigurationException("invalid S3 prefix '" + prefix + "': empty path segment");
            }
            this.prefix = p;
            return this;
        }

        /** AWS region ("eu-west-1"). Default: us-east-1, with cross-region access when no endpoint is set. */
        public Builder region(String region) {
            this.region = region == null || region.isBlank() ? null : region;
            return this;
        }

        /** Endpoint of an S3-compatible store ("http://127.0.0.1:9000"); default: AWS. */
        public Builder endpointOverride(URI endpoint) {
            if (endpoint != null && (endpoint.getScheme() == null || endpoint.getHost() == null)) {
                throw new ConfigurationException("invalid S3 endpoint '" + endpoint + "': expected http(s)://host[:port]");
            }
            if (endpoint != null && endpoint.getUserInfo() != null) {
                throw new ConfigurationException("the S3 endpoint must not contain credentials; use credentials(…) or the default chain");
            }
            this.endpointOverride = endpoint;
            return this;
        }

        /** Path-style requests (http://host/bucket/key), needed by most S3-compatible stores. */
        public Builder pathStyle(boolean pathStyle) {
            this.pathStyle = pathStyle;
            return this;
        }

        /** Where credentials come from; default: the SDK's default chain (environment, profile, IMDS, …). */
        public Builder credentialsProvider(AwsCredentialsProvider provider) {
            this.credentialsProvider = provider;
            return this;
        }

        /** Static credentials. The secret appears in no message, log or {@link #location()}. */
        public Builder credentials(String accessKeyId, String secretAccessKey) {
            if (accessKeyId == null || accessKeyId.isBlank() || secretAccessKey == null || secretAccessKey.isEmpty()) {
                throw new ConfigurationException("S3 credentials need both an access key id and a secret access key");
            }
            this.credentialsProvider = StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey));
            return this;
        }

        /**
         * Part size for multipart uploads (5 MiB – 5 GiB; default 16 MiB). In-memory payloads of at least
         * two part sizes are split into equal parts of at least this size (smaller ones are one PutObject);
         * streamed payloads larger than one part go up in parts of exactly this size, buffered. Grown
         * automatically for objects that would need more than 10,000 parts.
         */
        public Builder partSize(long bytes) {
            if (bytes < MIN_PART_SIZE || bytes > MAX_PART_SIZE) {
                throw new ConfigurationException("S3 part size must be between 5 MiB and 5 GiB, was " + bytes);
            }
            this.partSize = bytes;
            return this;
        }

        /**
         * Parts in flight at once, across all uploads of this storage (default 4). Streaming uploads
         * hold at most this many part buffers: memory is bounded by {@code maxConcurrency × partSize}.
         */
        public Builder maxConcurrency(int parts) {
            if (parts < 1 || parts > 256) {
                throw new ConfigurationException("S3 max concurrency must be between 1 and 256, was " + parts);
            }
            this.maxConcurrency = parts;
            return this;
        }

        /** Storage class for objects of one kind (for example DATA → STANDARD_IA or GLACIER_IR). */
        public Builder storageClass(ObjectKind kind, StorageClass storageClass) {
            Objects.requireNonNull(kind, "kind");
            if (storageClass == null || storageClass == StorageClass.UNKNOWN_TO_SDK_VERSION) {
                storageClasses.remove(kind);
            } else {
                if (storageClass == StorageClass.GLACIER || storageClass == StorageClass.DEEP_ARCHIVE) {
                    throw new ConfigurationException("storage class " + storageClass + " needs a restore before reads;"
                            + " backupkit reads packs directly, use GLACIER_IR, STANDARD_IA or ONEZONE_IA");
                }
                storageClasses.put(kind, storageClass);
            }
            return this;
        }

        /** Server-side encryption with S3-managed keys (SSE-S3, AES256), on top of backupkit's own encryption. */
        public Builder serverSideEncryptionS3() {
            this.sse = ServerSideEncryption.AES256;
            this.sseKmsKeyId = null;
            return this;
        }

        /** Server-side encryption with a KMS key (SSE-KMS); {@code keyId} null means the account's aws/s3 key. */
        public Builder serverSideEncryptionKms(String keyId) {
            this.sse = ServerSideEncryption.AWS_KMS;
            this.sseKmsKeyId = keyId;
            return this;
        }

        /**
         * Object Lock on new objects: {@code mode} with a retention measured from each write. The
         * bucket must have Object Lock enabled; enforcement is the store's. Prune cannot delete locked
         * packs before the retention ends, so choose a retention no longer than the snapshots are kept.
         */
        public Builder objectLock(ObjectLockMode mode, Duration retention) {
            if (mode == null || retention == null || retention.isNegative() || retention.isZero()) {
                throw new ConfigurationException("object lock needs a mode (GOVERNANCE or COMPLIANCE) and a positive retention");
            }
            this.objectLockMode = mode;
            this.retention = retention;
            this.retainUntil = null;
            return this;
        }

        /** Object Lock on new objects until a fixed time (for example the snapshot's retention end). */
        public Builder objectLock(ObjectLockMode mode, Instant retainUntil) {
            if (mode == null || retainUntil == null) {
                throw new ConfigurationException("object lock needs a mode (GOVERNANCE or COMPLIANCE) and a retain-until time");
            }
            this.objectLockMode = mode;
            this.retainUntil = retainUntil;
            this.retention = null;
            return this;
        }

        /** Puts a legal hold on new objects (removed only explicitly, outside backupkit). */
        public Builder legalHold(boolean legalHold) {
            this.legalHold = legalHold;
            return this;
        }

        /** Which kinds get Object Lock and legal hold; default all but LOCKS (locks must be deletable). */
        public Builder objectLockKinds(Set<ObjectKind> kinds) {
            this.objectLockKinds = kinds.isEmpty() ? EnumSet.noneOf(ObjectKind.class) : EnumSet.copyOf(kinds);
            return this;
        }

        /**
         * Checksum sent with every upload and checked by the store (default CRC32C); whole-object reads
         * check it back. {@code null} sends only what S3 requires.
         */
        public Builder checksumAlgorithm(ChecksumAlgorithm algorithm) {
            this.checksumAlgorithm = algorithm;
            return this;
        }

        /** How existing names are protected; default {@link ConditionalWrites#IF_NONE_MATCH}. */
        public Builder conditionalWrites(ConditionalWrites mode) {
            this.conditionalWrites = Objects.requireNonNull(mode);
            return this;
        }

        /** SDK retry mode: STANDARD (default) or ADAPTIVE (client-side rate limiting under throttling). */
        public Builder retryMode(RetryMode mode) {
            this.retryMode = Objects.requireNonNull(mode);
            return this;
        }

        /** Attempts per request including the first (default 6), with exponential backoff and jitter. */
        public Builder maxAttempts(int attempts) {
            if (attempts < 1) {
                throw new ConfigurationException("max attempts must be at least 1, was " + attempts);
            }
            this.maxAttempts = attempts;
            return this;
        }

        /** How long to wait for a TCP connection (default 5 s). */
        public Builder connectionTimeout(Duration timeout) {
            this.connectionTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /**
         * Size of the HTTP connection pool (default: 64, or more with high part concurrency). Every open
         * {@code get} stream holds a connection until it is read or closed.
         */
        public Builder maxConnections(int connections) {
            if (connections < 1) {
                throw new ConfigurationException("max connections must be at least 1, was " + connections);
            }
            this.maxConnections = connections;
            return this;
        }

        /** Adds an SDK interceptor (metrics, request logging, header capture in tests). */
        public Builder executionInterceptor(ExecutionInterceptor interceptor) {
            interceptors.add(Objects.requireNonNull(interceptor));
            return this;
        }

        /** What this builder would build, one entry per setting, for tests of the {@code s3://} parser. */
        Map<String, String> effectiveSettings() {
            Map<String, String> m = new java.util.TreeMap<>();
            m.put("bucket", bucket);
            m.put("prefix", prefix);
            m.put("region", String.valueOf(region));
            m.put("endpoint", String.valueOf(endpointOverride));
            m.put("path-style", String.valueOf(pathStyle));
            m.put("credentials", credentialsProvider == null ? "default chain" : credentialsProvider.getClass().getSimpleName());
            m.put("part-size", Long.toString(partSize));
            m.put("max-concurrency", Integer.toString(maxConcurrency));
            m.put("max-attempts", Integer.toString(maxAttempts));
            m.put("max-connections", Integer.toString(maxConnections));
            m.put("checksum", String.valueOf(checksumAlgorithm));
            m.put("conditional-writes", conditionalWrites.name());
            for (ObjectKind k : ObjectKind.values()) {
                m.put("storage-class." + k.name().toLowerCase(java.util.Locale.ROOT), String.valueOf(storageClasses.get(k)));
            }
            m.put("sse", String.valueOf(sse));
            m.put("sse-kms-key-id", String.valueOf(sseKmsKeyId));
            return m;
        }

        public S3Storage build() {
            if (bucket == null) {
                throw new ConfigurationException("S3 storage needs a bucket");
            }
            if (retainUntil != null && retainUntil.isBefore(Instant.now())) {
                throw new ConfigurationException("object lock retain-until " + retainUntil + " lies in the past");
            }
            return new S3Storage(this);
        }
    }
}
