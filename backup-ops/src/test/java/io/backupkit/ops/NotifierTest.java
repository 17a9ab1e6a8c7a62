package io.backupkit.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Webhook (HMAC-signed JSON), Slack and email against real local servers; failures never block or throw. */
class NotifierTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    static JobEvent event(JobEvent.Type type, String snapshot, String error) {
        RunRecord run = new RunRecord("nightly", "backup", Instant.parse("2026-05-01T02:30:00Z"), Instant.parse("2026-05-01T02:30:00Z"),
                Instant.parse("2026-05-01T02:31:00Z"), error == null ? RunRecord.SUCCEEDED : RunRecord.FAILED, 1, snapshot, error,
                1000, 100, 60_000, null, 3600L, null, "db-backup-1");
        return new JobEvent(type, "nightly", ScheduledJob.Kind.BACKUP, run.tick(), run.finished(), 1, snapshot, error, run);
    }

    @Test
    void webhookPostsOneSignedJsonDocumentPerOutcome() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver();
             WebhookNotifier hook = WebhookNotifier.builder().url(receiver.url("/hook")).secret("s3cret").repository("/var/backups/shop").build()) {
            hook.onEvent(event(JobEvent.Type.STARTED, null, null));
            hook.onEvent(event(JobEvent.Type.SUCCEEDED, "a".repeat(64), null));
            hook.onEvent(event(JobEvent.Type.FAILED, null, "pg_dump failed with exit code 1"));
            assertTrue(hook.flush(Duration.ofSeconds(30)));
            List<WebhookReceiver.Request> got = receiver.requests;
            assertEquals(2, got.size(), "started is not an outcome: " + got);
            JsonNode ok = MAPPER.readTree(got.get(0).body());
            assertEquals("succeeded", ok.path("status").asText());
            assertEquals("a".repeat(64), ok.path("snapshot").asText());
            assertTrue(ok.path("error").isNull());
            assertEquals("nightly", ok.path("job").asText());
            assertEquals("/var/backups/shop", ok.path("repository").asText());
            JsonNode failed = MAPPER.readTree(got.get(1).body());
            assertEquals("failed", failed.path("status").asText());
            assertEquals("pg_dump failed with exit code 1", failed.path("error").asText());
            for (WebhookReceiver.Request r : got) {
                String ts = r.header(WebhookNotifier.TIMESTAMP_HEADER);
                assertEquals(WebhookNotifier.signature("s3cret".getBytes(), ts, r.body()), r.header(WebhookNotifier.SIGNATURE_HEADER));
                assertFalse(WebhookNotifier.signature("other".getBytes(), ts, r.body()).equals(r.header(WebhookNotifier.SIGNATURE_HEADER)));
                assertTrue(Math.abs(Long.parseLong(ts) - System.currentTimeMillis() / 1000) < 600);
            }
            assertEquals(2, hook.sent());
            assertEquals(0, hook.failures());
        }
    }

    @Test
    void aSlowReceiverNeitherBlocksTheCallerNorHangsForever() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver()) {
            receiver.delay = Duration.ofSeconds(5);
            WebhookNotifier hook = WebhookNotifier.builder().url(receiver.url("/slow")).timeout(Duration.ofMillis(500))
                    .retries(1, Duration.ofMillis(100)).build();
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                hook.onEvent(event(JobEvent.Type.FAILED, null, "boom " + i));
            }
            assertTrue(Duration.ofNanos(System.nanoTime() - t0).toMillis() < 1000, "queuing never waits for the network");
            hook.close();
            assertEquals(3, hook.failures(), "each event: two attempts of at most 0.5 s, then given up");
            // each event: 2 attempts of 0.5 s bounded by the timeout; close() gives up after 30 s at most
            assertTrue(hook.failures() > 0, "timeouts are counted as failures");
        }
    }

    @Test
    void aReceiverThatFailsIsRetriedAndThenCounted() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver()) {
            receiver.status = 503;
            try (WebhookNotifier hook = WebhookNotifier.builder().url(receiver.url("/down")).retries(2, Duration.ofMillis(50)).build()) {
                hook.onEvent(event(JobEvent.Type.FAILED, null, "x"));
                assertTrue(hook.flush(Duration.ofSeconds(30)));
                assertEquals(3, receiver.requests.size(), "first attempt + 2 retries");
                assertEquals(1, hook.failures());
                assertEquals(0, hook.sent());
            }
        }
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (WebhookNotifier hook = WebhookNotifier.builder().url("http://127.0.0.1:" + closedPort + "/nobody")
                .retries(1, Duration.ofMillis(50)).build()) {
            hook.onEvent(event(JobEvent.Type.FAILED, null, "x"));
            assertTrue(hook.flush(Duration.ofSeconds(30)));
            assertEquals(1, hook.failures());
        }
    }

    @Test
    void slackGetsATextMessage() throws Exception {
        try (WebhookReceiver receiver = new WebhookReceiver();
             SlackNotifier slack = SlackNotifier.builder().url(receiver.url("/services/T000/B000/XXXX")).build()) {
            slack.onEvent(event(JobEvent.Type.FAILED, null, "could not connect to postgresql://db:5432/shop"));
            assertTrue(slack.flush(Duration.ofSeconds(30)));
            JsonNode n = MAPPER.readTree(receiver.requests.get(0).body());
            assertEquals(Set.of("text"), Set.copyOf(iterable(n.fieldNames())));
            assertEquals(":x: backupkit: backup job nightly FAILED: could not connect to postgresql://db:5432/shop", n.path("text").asText());
        }
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void emailIsDeliveredToALocalSmtpServer() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        GreenMail smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        try (EmailNotifier mail = EmailNotifier.builder().smtp("127.0.0.1", port).from("backups@example.com").to("dba@example.com")
                .timeout(Duration.ofSeconds(10)).build()) {
            mail.onEvent(event(JobEvent.Type.SUCCEEDED, "b".repeat(64), null)); // not sent by default
            mail.onEvent(event(JobEvent.Type.FAILED, null, "disk full"));
            assertTrue(mail.flush(Duration.ofSeconds(30)));
            assertTrue(smtp.waitForIncomingEmail(10_000, 1));
            MimeMessage[] got = smtp.getReceivedMessages();
            assertEquals(1, got.length);
            assertEquals("[backupkit] backup job nightly FAILED: disk full", got[0].getSubject());
            assertEquals("dba@example.com", got[0].getAllRecipients()[0].toString());
            assertTrue(((String) got[0].getContent()).contains("\"status\" : \"failed\""), (String) got[0].getContent());
            assertEquals(1, mail.sent());
        } finally {
            smtp.stop();
        }
    }

    @Test
    void emailToAServerThatIsDownFailsWithinItsTimeoutAndIsCounted() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (EmailNotifier mail = EmailNotifier.builder().smtp("127.0.0.1", port).from("backups@example.com").to("dba@example.com")
                .timeout(Duration.ofSeconds(2)).retries(1, Duration.ofMillis(50)).build()) {
            mail.onEvent(event(JobEvent.Type.FAILED, null, "x"));
            assertTrue(mail.flush(Duration.ofSeconds(30)));
            assertEquals(1, mail.failures());
        }
    }
}
