package io.backupkit.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for 127.0.0.1 and localhost, made by the JDK's {@code keytool}: a PKCS12 key store with
 * the key and certificate (for a TLS server) and a PKCS12 trust store with the certificate alone (what a user
 * hands the JVM to trust the server).
 *
 * <pre>{@code
 * SelfSignedCertificate cert = SelfSignedCertificate.create(tempDir);
 * new S3ProxyFixture().withTls(cert.keyStore(), cert.password());
 * }</pre>
 */
record SelfSignedCertificate(Path keyStore, Path trustStore, String password) {
    private static final String ALIAS = "server";

    static SelfSignedCertificate create(Path dir) throws IOException, InterruptedException, GeneralSecurityException {
        String password = "changeit-" + Long.toHexString(System.nanoTime());
        Path keyStore = dir.resolve("server.p12");
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1",
                "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1,dns:localhost",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", password, "-keypass", password)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("keytool failed: " + out);
        }
        KeyStore server = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStore)) {
            server.load(in, password.toCharArray());
        }
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry(ALIAS, server.getCertificate(ALIAS));
        Path trustStore = dir.resolve("trust.p12");
        try (OutputStream o = Files.newOutputStream(trustStore)) {
            trust.store(o, password.toCharArray());
        }
        return new SelfSignedCertificate(keyStore, trustStore, password);
    }
}
