package io.backupkit.ops;

import io.backupkit.ConfigurationException;
import io.backupkit.ops.internal.EventJson;
import io.backupkit.ops.internal.HttpPost;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Posts each outcome event as a JSON document to a URL. With a secret, every request carries
 * {@code X-Backupkit-Timestamp} (epoch seconds) and {@code X-Backupkit-Signature: sha256=<hex>},
 * the HMAC-SHA256 under the secret of {@code timestamp + "." + body}: the receiver recomputes it,
 * compares in constant time and rejects old timestamps (replays).
 *
 * <pre>{@code
 * WebhookNotifier hook = WebhookNotifier.builder()
 *         .url(URI.create("https://ops.example.com/hooks/backups"))
 *         .secret(System.getenv("BACKUP_HOOK_SECRET"))
 *         .build();
 * }</pre>
 * The document: {@code {"event":"failed","status":"failed","job":"nightly","snapshot":null,"error":"…",…}}
 * (docs/operations.md lists every field).
 */
public final class WebhookNotifier extends Notifier {
    public static final String SIGNATURE_HEADER = "X-Backupkit-Signature";
    public static final String TIMESTAMP_HEADER = "X-Backupkit-Timestamp";
    public static final String EVENT_HEADER = "X-Backupkit-Event";

    private final HttpPost http;
    private final byte[] secret;
    private final String repository;

    private WebhookNotifier(Builder b) {
        super(b.name, b.types, b.retries, b.retryDelay);
        this.http = new HttpPost(b.url, b.timeout);
        this.secret = b.secret;
        this.repository = b.repository;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The signature a receiver expects for {@code timestamp} and {@code body}: "sha256=" + hex HMAC. */
    public static String signature(byte[] secret, String timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void send(JobEvent event) throws Exception {
        byte[] body = EventJson.bytes(event, repository);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(EVENT_HEADER, event.type().label());
        if (secret != null) {
            String ts = Long.toString(System.currentTimeMillis() / 1000);
            headers.put(TIMESTAMP_HEADER, ts);
            headers.put(SIGNATURE_HEADER, signature(secret, ts, body));
        }
        http.post(body, headers);
    }

    /** Configures a {@link WebhookNotifier}. */
    public static final class Builder {
        private URI url;
        private byte[] secret;
        private String repository;
        private String name = "webhook";
        private Set<JobEvent.Type> types = outcomes();
        private Duration timeout = Duration.ofSeconds(10);
        private int retries = 2;
        private Duration retryDelay = Duration.ofSeconds(1);

        private Builder() {
        }

        /** http or https URL that receives the POSTs. */
        public Builder url(URI url) {
            if (url == null || url.getScheme() == null || !(url.getScheme().equals("http") || url.getScheme().equals("https"))
                    || url.getHost() == null) {
                throw new ConfigurationException("webhook URL must be an http:// or https:// URL with a host, was "
                        + (url == null ? null : HttpPost.redact(url)));
            }
            this.url = url;
            return this;
        }

        public Builder url(String url) {
            try {
                return url(URI.create(url));
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("webhook URL is not a valid URL (" + e.getMessage().replace(url, "…") + ")");
            }
        }

        /** Signs every request with HMAC-SHA256 under this secret (UTF-8). */
        public Builder secret(String secret) {
            this.secret = secret == null || secret.isEmpty() ? null : secret.getBytes(StandardCharsets.UTF_8);
            return this;
        }

        /** The repository location to name in events (without credentials). */
        public Builder repository(String location) {
            this.repository = location;
            return this;
        }

        /** Name for logs and metrics (default "webhook"). */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        /** Which events to send (default: {@link Notifier#outcomes()}). */
        public Builder events(Set<JobEvent.Type> types) {
            this.types = Set.copyOf(types);
            return this;
        }

        /** Connect and response timeout of one request (default 10 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Attempts after the first (default 2), the first after {@code delay}, then doubling (default 1 s). */
        public Builder retries(int retries, Duration delay) {
            this.retries = retries;
            this.retryDelay = delay;
            return this;
        }

        public WebhookNotifier build() {
            if (url == null) {
                throw new ConfigurationException("webhook notifier: url is required");
            }
            return new WebhookNotifier(this);
        }
    }
}
