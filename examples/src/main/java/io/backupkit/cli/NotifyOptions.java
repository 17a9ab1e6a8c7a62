package io.backupkit.cli;

import io.backupkit.ops.WebhookNotifier;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** --notify-webhook URL… and the secret its requests are signed with. */
final class NotifyOptions {
    static final String ENV_WEBHOOK_SECRET = "BACKUPKIT_WEBHOOK_SECRET";

    @Option(names = "--notify-webhook", paramLabel = "URL",
            description = "POST one JSON event per outcome to URL (repeatable): status succeeded/failed, snapshot id, error. "
                    + "Never blocks or fails the backup.")
    List<String> webhooks = new ArrayList<>();

    @Option(names = "--webhook-secret-file", paramLabel = "FILE",
            description = "Sign webhook requests with HMAC-SHA256 (X-Backupkit-Signature) under the secret in FILE "
                    + "(default: $" + ENV_WEBHOOK_SECRET + ").")
    Path secretFile;

    List<WebhookNotifier> notifiers(Terminal terminal, String repository) {
        List<WebhookNotifier> out = new ArrayList<>();
        if (webhooks.isEmpty()) {
            return out;
        }
        char[] secret = Secrets.fromFileOrEnv(secretFile, "webhook secret file", terminal, ENV_WEBHOOK_SECRET);
        for (String url : webhooks) {
            out.add(WebhookNotifier.builder().url(url).secret(secret == null ? null : new String(secret)).repository(repository).build());
        }
        return out;
    }
}
