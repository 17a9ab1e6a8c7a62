package io.backupkit.s3.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

import javax.net.ssl.SSLHandshakeException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A refused certificate's message names the fix that applies: a trust store only where no trusted CA vouches for it. */
class S3ErrorsCertificateTest {
    private final S3Errors errors = new S3Errors("b", "https://10.0.0.5:9000", "s3://b");

    private static SdkClientException handshake(Throwable cause) {
        SSLHandshakeException ssl = new SSLHandshakeException("(certificate_unknown) " + cause.getMessage());
        ssl.initCause(cause);
        return SdkClientException.builder().message("Unable to execute HTTP request: " + ssl.getMessage()).cause(ssl).build();
    }

    @Test
    void aCertificateNoTrustedCaVouchesFor_namesTheTrustStore() {
        CertificateException e = new CertificateException("PKIX path building failed",
                new CertPathBuilderException("unable to find valid certification path to requested target"));
        BackupException mapped = errors.map(handshake(e), "listing", null);
        assertInstanceOf(ConfigurationException.class, mapped);
        assertTrue(mapped.getMessage().contains("not trusted") && mapped.getMessage().contains("javax.net.ssl.trustStore"),
                mapped.getMessage());
    }

    @Test
    void aCertificateForAnotherHost_doesNotSendTheUserToATrustStore() {
        CertificateException e = new CertificateException("No subject alternative names matching IP address 10.0.0.5 found");
        BackupException mapped = errors.map(handshake(e), "listing", null);
        assertInstanceOf(ConfigurationException.class, mapped);
        String message = mapped.getMessage();
        assertTrue(message.contains("https://10.0.0.5:9000") && message.contains("No subject alternative names"), message);
        assertTrue(message.contains("host name"), message);
        assertFalse(message.contains("trustStore"), message);
    }
}
