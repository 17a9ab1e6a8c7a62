package io.backupkit.ops;

import io.backupkit.ConfigurationException;
import io.backupkit.ops.internal.EventJson;
import io.backupkit.ops.internal.OpsJson;
import jakarta.mail.Authenticator;
import jakarta.mail.Message;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * Sends outcome events by email over SMTP (Jakarta Mail / Eclipse Angus, an optional dependency:
 * add {@code org.eclipse.angus:angus-mail}). Connect, read and write timeouts are bounded.
 *
 * <pre>{@code
 * EmailNotifier mail = EmailNotifier.builder()
 *         .smtp("smtp.example.com", 587).startTls(true).login("backup-bot", smtpPassword)
 *         .from("backups@example.com").to("dba@example.com")
 *         .build();
 * }</pre>
 */
public final class EmailNotifier extends Notifier {
    private final Session session;
    private final InternetAddress from;
    private final InternetAddress[] to;

    private EmailNotifier(Builder b) {
        super("email", b.types, b.retries, b.retryDelay);
        Properties p = new Properties();
        p.put("mail.smtp.host", b.host);
        p.put("mail.smtp.port", Integer.toString(b.port));
        String ms = Long.toString(b.timeout.toMillis());
        p.put("mail.smtp.connectiontimeout", ms);
        p.put("mail.smtp.timeout", ms);
        p.put("mail.smtp.writetimeout", ms);
        p.put("mail.smtp.starttls.enable", Boolean.toString(b.startTls));
        p.put("mail.smtp.starttls.required", Boolean.toString(b.startTls));
        Authenticator auth = null;
        if (b.user != null) {
            p.put("mail.smtp.auth", "true");
            String user = b.user;
            char[] password = b.password;
            auth = new Authenticator() {
                @Override
                protected PasswordAuthentication getPasswordAuthentication() {
                    return new PasswordAuthentication(user, new String(password));
                }
            };
        }
        this.session = Session.getInstance(p, auth);
        try {
            this.from = new InternetAddress(b.from, true);
            List<InternetAddress> rcpt = new ArrayList<>();
            for (String t : b.to) {
                rcpt.add(new InternetAddress(t, true));
            }
            this.to = rcpt.toArray(InternetAddress[]::new);
        } catch (jakarta.mail.internet.AddressException e) {
            throw new ConfigurationException("email notifier: invalid address: " + e.getMessage());
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected void send(JobEvent event) throws Exception {
        MimeMessage m = new MimeMessage(session);
        m.setFrom(from);
        m.setRecipients(Message.RecipientType.TO, to);
        m.setSentDate(new Date());
        m.setSubject("[backupkit] " + EventJson.summary(event).lines().findFirst().orElse(""), "UTF-8");
        m.setText(EventJson.summary(event) + "\n\n" + OpsJson.MAPPER.writerWithDefaultPrettyPrinter()
                .writeValueAsString(EventJson.of(event, null)) + "\n", "UTF-8");
        Transport.send(m);
    }

    /** Configures an {@link EmailNotifier}. */
    public static final class Builder {
        private String host;
        private int port = 25;
        private boolean startTls;
        private String user;
        private char[] password;
        private String from;
        private final List<String> to = new ArrayList<>();
        private Set<JobEvent.Type> types = Set.of(JobEvent.Type.FAILED, JobEvent.Type.STALE);
        private Duration timeout = Duration.ofSeconds(20);
        private int retries = 2;
        private Duration retryDelay = Duration.ofSeconds(2);

        private Builder() {
        }

        public Builder smtp(String host, int port) {
            this.host = host;
            this.port = port;
            return this;
        }

        /** Require STARTTLS (default off). */
        public Builder startTls(boolean startTls) {
            this.startTls = startTls;
            return this;
        }

        public Builder login(String user, String password) {
            this.user = user;
            this.password = password.toCharArray();
            return this;
        }

        public Builder from(String address) {
            this.from = address;
            return this;
        }

        /** A recipient (repeatable). */
        public Builder to(String address) {
            to.add(address);
            return this;
        }

        /** Which events to send (default: failed and stale). */
        public Builder events(Set<JobEvent.Type> types) {
            this.types = Set.copyOf(types);
            return this;
        }

        /** Connect, read and write timeout (default 20 s). */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public Builder retries(int retries, Duration delay) {
            this.retries = retries;
            this.retryDelay = delay;
            return this;
        }

        public EmailNotifier build() {
            if (host == null || from == null || to.isEmpty()) {
                throw new ConfigurationException("email notifier: smtp host, from and at least one to address are required");
            }
            return new EmailNotifier(this);
        }
    }
}
