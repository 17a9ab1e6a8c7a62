package io.backupkit.ops;

import io.backupkit.ConfigurationException;
import io.backupkit.ops.internal.EventJson;
import io.backupkit.ops.internal.HttpPost;
import io.backupkit.ops.internal.OpsJson;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Posts outcome events to a Slack-compatible incoming webhook ({@code {"text": "…"}}; Mattermost and
 * Rocket.Chat accept the same). The URL is a secret: it is never logged.
 *
 * <pre>{@code
 * SlackNotifier slack = SlackNotifier.builder().url(System.getenv("SLACK_WEBHOOK_URL")).build();
 * }</pre>
 */
public final class SlackNotifier extends Notifier {
    private final HttpPost http;

    private SlackNotifier(URI url, Set<JobEvent.Type> types, Duration timeout, int retries, Duration delay) {
        super("slack", types, retries, delay);
        this.http = new HttpPost(url, timeout);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The message text of an event. */
    public static String text(JobEvent e) {
        String icon = switch (e.type()) {
            case SUCCEEDED -> ":white_check_mark:";
            case VERIFIED -> e.error() == null ? ":white_check_mark:" : ":x:";
            case FAILED -> ":x:";
            case STALE -> ":warning:";
            default -> ":information_source:";
        };
        return icon + " backupkit: " + EventJson.summary(e);
    }

    @Override
    protected void send(JobEvent event) throws Exception {
        http.post(OpsJson.MAPPER.writeValueAsBytes(Map.of("text", text(event))), Map.of());
    }

    /** Configures a {@link SlackNotifier}. */
    public static final class Builder {
        private URI url;
        private Set<JobEvent.Type> types = Set.of(JobEvent.Type.FAILED, JobEvent.Type.STALE, JobEvent.Type.SUCCEEDED);
        private Duration timeout = Duration.ofSeconds(10);
        private int retries = 2;
        private Duration retryDelay = Duration.ofSeconds(1);

        private Builder() {
        }

        public Builder url(String url) {
            try {
                this.url = URI.create(url);
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException("Slack webhook URL is not a valid URL");
            }
            if (this.url.getScheme() == null || !this.url.getScheme().startsWith("http") || this.url.getHost() == null) {
                throw new ConfigurationException("Slack webhook URL must be an http(s):// URL with a host");
            }
            return this;
        }

        /** Which events to send (default: succeeded, failed, stale). */
        public Builder events(Set<JobEvent.Type> types) {
            this.types = Set.copyOf(types);
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder retries(int retries, Duration delay) {
            this.retries = retries;
            this.retryDelay = delay;
            return this;
        }

        public SlackNotifier build() {
            if (url == null) {
                throw new ConfigurationException("Slack notifier: url is required");
            }
            return new SlackNotifier(url, types, timeout, retries, retryDelay);
        }
    }
}
