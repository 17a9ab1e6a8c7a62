package io.backupkit.s3.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import javax.net.ssl.SSLException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/**
 * Turns SDK exceptions into backupkit's exception tree. Every message names the bucket, the endpoint
 * and the object; none contains credentials (the SDK's own messages do not carry the secret, and we
 * add only names we were given as configuration).
 */
public final class S3Errors {
    private final String bucket;
    private final String endpoint;
    private final String location;

    /**
     * @param bucket   the bucket name
     * @param endpoint a description of where requests go ("http://127.0.0.1:9000" or "AWS S3 eu-west-1")
     * @param location the storage's {@code location()}
     */
    public S3Errors(String bucket, String endpoint, String location) {
        this.bucket = bucket;
        this.endpoint = endpoint;
        this.location = location;
    }

    /** HTTP status of an SDK service exception, or -1. */
    public static int status(Throwable e) {
        return e instanceof AwsServiceException s ? s.statusCode() : -1;
    }

    /** S3 error code ("PreconditionFailed", "NoSuchKey", …) of a service exception, or "". */
    public static String code(Throwable e) {
        if (e instanceof AwsServiceException s && s.awsErrorDetails() != null && s.awsErrorDetails().errorCode() != null) {
            return s.awsErrorDetails().errorCode();
        }
        return "";
    }

    /**
     * The backupkit exception for a failed {@code action} ("writing", "reading", …) on
     * {@code objectName} (may be null for bucket-wide operations such as listing).
     */
    public BackupException map(SdkException e, String action, String objectName) {
        String what = action + (objectName == null ? "" : " " + objectName) + " in bucket '" + bucket + "' at " + endpoint;
        if (e instanceof AwsServiceException s) {
            int status = s.statusCode();
            String code = code(s);
            String detail = " (HTTP " + status + (code.isEmpty() ? "" : " " + code)
                    + (s.requestId() == null ? "" : ", request id " + s.requestId()) + ")";
            if (e instanceof NoSuchBucketException || code.equals("NoSuchBucket")) {
                return new ConfigurationException(what + " failed: bucket '" + bucket + "' does not exist at " + endpoint
                        + detail + "; create the bucket or fix the repository location", e);
            }
            if (objectName != null && (e instanceof NoSuchKeyException || code.equals("NoSuchKey"))) {
                return new ObjectNotFoundException(location, objectName);
            }
            if (status == 403 && (code.equals("InvalidAccessKeyId") || code.equals("SignatureDoesNotMatch")
                    || code.equals("InvalidToken") || code.equals("ExpiredToken") || code.equals("TokenRefreshRequired"))) {
                return new ConfigurationException(what + " failed: " + endpoint + " rejected the credentials" + detail
                        + "; check the access key id and secret key (or the AWS profile / environment the default chain reads)", e);
            }
            if (status == 403) {
                return new ConfigurationException(what + " failed: access denied" + detail
                        + "; the credentials work but lack permission on bucket '" + bucket
                        + "' (s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject) or a KMS key", e);
            }
            if (code.equals("BadDigest") || code.equals("XAmzContentChecksumMismatch") || code.equals("InvalidDigest")) {
                // the store checked the checksum we sent and the bytes it received differ: damaged on the
                // way there, nothing was stored; sending again may work
                return new StorageException(what + " failed: the store received bytes that do not match the checksum sent"
                        + " with them (damaged in transit; nothing was stored)" + detail, true, e);
            }
            if (status == 416 || code.equals("InvalidRange")) {
                return new StorageException(what + " failed: the requested range lies beyond the end of the object" + detail, false, e);
            }
            boolean retryable = status >= 500 || status == 429 || s.isThrottlingException()
                    || code.equals("RequestTimeout") || code.equals("SlowDown");
            return new StorageException(what + " failed" + detail + ": " + serviceMessage(s)
                    + (retryable ? "; the store kept failing after the configured retries" : ""), retryable, e);
        }
        Throwable certificate = findCause(e, CertificateException.class, CertPathBuilderException.class, CertPathValidatorException.class);
        if (certificate != null && findCause(e, SSLException.class) != null) {
            // the same certificate is refused on every attempt: a setup to fix, not a fault to retry. No path to a CA the
            // JVM trusts: a trust store is the fix; a name that does not match, an expired or revoked certificate: no
            // trust store changes that
            boolean unknownCa = findCause(e, CertPathBuilderException.class) != null;
            return new ConfigurationException(what + " failed: the TLS certificate of " + endpoint
                    + (unknownCa ? " is not trusted by this JVM (" : " is refused (") + reason(deepest(certificate)) + "); "
                    + (unknownCa ? "add the certificate of its CA to a trust store and start the JVM with"
                            + " -Djavax.net.ssl.trustStore=<file> -Djavax.net.ssl.trustStorePassword=<password>, or import it"
                            + " into the JDK's cacerts"
                            : "it must name the endpoint's host and be within its validity dates: fix the certificate, or use"
                            + " the host name it was issued for in the endpoint"), e);
        }
        Throwable unreachable = findCause(e, ConnectException.class, UnknownHostException.class, NoRouteToHostException.class);
        if (unreachable != null) {
            return new StorageException(what + " failed: cannot reach the S3 endpoint " + endpoint + " ("
                    + unreachable.getClass().getSimpleName() + ": " + unreachable.getMessage()
                    + "); check the endpoint, region and network", true, e);
        }
        Throwable timeout = findCause(e, SocketTimeoutException.class);
        if (timeout != null) {
            return new StorageException(what + " failed: the S3 endpoint " + endpoint + " timed out (" + timeout.getMessage() + ")", true, e);
        }
        return new StorageException(what + " failed: " + e.getMessage(), true, e);
    }

    private static String serviceMessage(AwsServiceException s) {
        if (s.awsErrorDetails() != null && s.awsErrorDetails().errorMessage() != null) {
            return s.awsErrorDetails().errorMessage();
        }
        return s.getClass().getSimpleName();
    }

    private static String reason(Throwable t) {
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    private static Throwable deepest(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t;
    }

    @SafeVarargs
    private static Throwable findCause(Throwable e, Class<? extends Throwable>... types) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            for (Class<? extends Throwable> type : types) {
                if (type.isInstance(t)) {
                    return t;
                }
            }
        }
        return null;
    }
}
