package io.backupkit.cli;

import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.s3.S3ProxyFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The secrets campaign: a whole CLI session through the real jar against PostgreSQL and S3Proxy —
 * init, backup, list, show, verify (every level), restore, key add/remove, and the error paths
 * (wrong repository password, wrong database password, unreachable database, bad S3 credentials and
 * endpoint, restore into an existing database, secrets put where they do not belong) — run verbose,
 * in text and {@code --json}, one part with debug logging. Every byte of stdout and stderr (log
 * lines, error messages, stack traces with their causes, JSON documents) is searched for every
 * secret of the session, raw, URL-encoded and base64-encoded: there must be no hit.
 */
class CliSecretsCampaignIT {
    /** {@code -Dbackupkit.secrets.full=true} adds the text variants of JSON runs and more debug-level runs (about 50 runs in all). */
    private static final boolean FULL = Boolean.getBoolean("backupkit.secrets.full");
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    // special characters on purpose: they are what URL-encoding and URL parsing get wrong
    private static final String REPO_PASSWORD = "Rp/" + RUN + "+=&% repo pw";
    private static final String NEW_PASSWORD = "Nw@" + RUN + "#?:new pw";
    private static final String WRONG_PASSWORD = "Wrong-" + RUN + "/+repo";
    private static final String DB_PASSWORD = "Db:" + RUN + "@/ db pw?&";
    private static final String WRONG_DB_PASSWORD = "WrongDb-" + RUN + "+/=";
    private static final String WRONG_S3_SECRET = "WrongS3+" + RUN + "/=secret";

    @TempDir
    Path dir;

    private final List<CliProcess.Result> runs = new ArrayList<>();

    @Test
    void aWholeSession_neverShowsASecret() throws Exception {
        try (S3ProxyFixture s3 = new S3ProxyFixture().start();
             EphemeralPostgres pg = EphemeralPostgres.builder().password(DB_PASSWORD).start()) {
            pg.createDatabase("shop");
            pg.execute("shop", DemoCommand.sampleSchemaAndData(1000));
            Map<String, String> secrets = new LinkedHashMap<>();
            secrets.put("repository password", REPO_PASSWORD);
            secrets.put("new repository password", NEW_PASSWORD);
            secrets.put("wrong repository password", WRONG_PASSWORD);
            secrets.put("database password", DB_PASSWORD);
            secrets.put("wrong database password", WRONG_DB_PASSWORD);
            secrets.put("S3 secret key", s3.secretKey());
            secrets.put("wrong S3 secret key", WRONG_S3_SECRET);

            String endpoint = "endpoint=" + s3.endpoint() + "&path-style=true&region=us-east-1";
            String repo = "s3://" + s3.newBucket() + "/shop?" + endpoint;
            String server = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/";
            Map<String, String> env = new HashMap<>();
            env.put("BACKUPKIT_PASSWORD", REPO_PASSWORD);
            env.put("BACKUPKIT_DB_PASSWORD", DB_PASSWORD);
            env.put("AWS_ACCESS_KEY_ID", s3.accessKey());
            env.put("AWS_SECRET_ACCESS_KEY", s3.secretKey());

            // the session, verbose (info logs, stack traces), in text and JSON
            run(env, 0, "init", "--repo", repo, "-v");
            run(env, 0, "backup", "--repo", repo, "--db", server + "shop", "-v", "--progress", "plain");
            String id = run(env, 0, "backup", "--repo", repo, "--db", server + "shop", "--json", "-v").json()
                    .path("snapshot").path("id").asText();
            extra(env, 0, "list", "--repo", repo, "-v");
            run(env, 0, "list", "--repo", repo, "--json");
            extra(env, 0, "show", "--repo", repo, id, "-v");
            run(env, 0, "show", "--repo", repo, id, "--json");
            extra(env, 0, "verify", "--repo", repo, "--level", "quick", "--json", "-v");
            run(env, 0, "verify", "--repo", repo, "--level", "standard", "-v");
            run(env, 0, "verify", "--repo", repo, "--level", "comprehensive", "--scratch", server + "postgres", "--json", "-v");
            extra(env, 0, "restore", "--repo", repo, id, "--target", server + "copy", "-v", "--dry-run");
            run(env, 0, "restore", "--repo", repo, id, "--target", server + "copy", "-v", "--json");
            assertEquals(pg.queryForString("shop", "SELECT count(*) FROM orders"), pg.queryForString("copy", "SELECT count(*) FROM orders"));

            // keys: add a password, open with it, remove the first slot
            Map<String, String> adding = new HashMap<>(env);
            adding.put("BACKUPKIT_NEW_PASSWORD", NEW_PASSWORD);
            run(adding, 0, "key", "add", "--repo", repo, "-v", "--json");
            Map<String, String> renewed = new HashMap<>(env);
            renewed.put("BACKUPKIT_PASSWORD", NEW_PASSWORD);
            extra(renewed, 0, "key", "list", "--repo", repo, "-v");
            String old = null;
            for (var k : run(renewed, 0, "key", "list", "--repo", repo, "--json").json().path("keys")) {
                if (!k.path("current").asBoolean()) {
                    old = k.path("id").asText();
                }
            }
            run(renewed, 0, "key", "remove", "--repo", repo, old, "-v");

            // error paths
            Map<String, String> wrongPassword = new HashMap<>(renewed);
            wrongPassword.put("BACKUPKIT_PASSWORD", WRONG_PASSWORD);
            extra(wrongPassword, 3, "list", "--repo", repo, "-v");
            run(wrongPassword, 3, "list", "--repo", repo, "--json", "-v");
            run(env, 3, "list", "--repo", repo, "--json", "-v"); // the removed slot's password
            Map<String, String> wrongDb = new HashMap<>(renewed);
            wrongDb.put("BACKUPKIT_DB_PASSWORD", WRONG_DB_PASSWORD);
            extra(wrongDb, 1, "backup", "--repo", repo, "--db", server + "shop", "-v");
            run(wrongDb, 1, "backup", "--repo", repo, "--db", server + "shop", "--json", "-v");
            run(wrongDb, null, "verify", "--repo", repo, "--level", "comprehensive", "--scratch", server + "postgres", "--json", "-v");
            run(renewed, 1, "backup", "--repo", repo, "--db", "postgresql://" + pg.user() + "@127.0.0.1:1/shop", "-v", "--json");
            extra(renewed, 2, "restore", "--repo", repo, id, "--target", server + "shop", "-v");
            run(renewed, 2, "restore", "--repo", repo, id, "--target", server + "shop", "--json", "-v");
            Map<String, String> wrongS3 = new HashMap<>(renewed);
            wrongS3.put("AWS_SECRET_ACCESS_KEY", WRONG_S3_SECRET);
            extra(wrongS3, null, "list", "--repo", repo, "-v");
            run(wrongS3, null, "backup", "--repo", repo, "--db", server + "shop", "--json", "-v");
            String unreachable = "s3://" + s3.newBucket() + "/shop?endpoint=http://127.0.0.1:1&path-style=true&region=us-east-1";
            run(renewed, null, "init", "--repo", unreachable, "-v", "--json");
            run(renewed, null, "list", "--repo", "s3://bk-missing-" + RUN + "/shop?" + endpoint, "-v");
            // secrets where they do not belong: refused or used, never repeated
            String secretInLocation = "s3://" + s3.newBucket() + "/x?" + endpoint + "&secret-key="
                    + URLEncoder.encode(s3.secretKey(), StandardCharsets.UTF_8);
            run(renewed, 2, "init", "--repo", secretInLocation, "--json", "-v");
            String encodedDbPassword = URLEncoder.encode(DB_PASSWORD, StandardCharsets.UTF_8).replace("+", "%20");
            String dbUrlWithPassword = "postgresql://" + pg.user() + ":" + encodedDbPassword + "@" + pg.host() + ":" + pg.port() + "/shop";
            String jdbcUrlWithPassword = "jdbc:postgresql://" + pg.host() + ":" + pg.port() + "/shop?user=" + pg.user()
                    + "&password=" + encodedDbPassword;
            Map<String, String> noDbPassword = new HashMap<>(renewed);
            noDbPassword.remove("BACKUPKIT_DB_PASSWORD");
            run(noDbPassword, 0, "backup", "--repo", repo, "--db", dbUrlWithPassword, "-v", "--json");
            run(noDbPassword, 0, "backup", "--repo", repo, "--db", jdbcUrlWithPassword, "-v");
            run(noDbPassword, 0, "restore", "--repo", repo, "--target", dbUrlWithPassword.replace("/shop", "/copy2"), "-v", "--json");
            extra(noDbPassword, 2, "restore", "--repo", repo, "--target", jdbcUrlWithPassword, "-v");
            run(noDbPassword, 1, "backup", "--repo", repo, "--db", dbUrlWithPassword.replace(encodedDbPassword,
                    URLEncoder.encode(WRONG_DB_PASSWORD, StandardCharsets.UTF_8).replace("+", "%20")), "-v", "--json");
            run(noDbPassword, 1, "backup", "--repo", repo, "--db", server + "shop", "-o", "password=" + WRONG_DB_PASSWORD, "-v");
            run(renewed, 2, "init", "--repo", "s3://" + s3.newBucket() + "/x?path-style=true&region=us-east-1&endpoint=http://"
                    + s3.accessKey() + ":" + s3.secretKey() + "@" + s3.endpoint().getAuthority(), "-v", "--json");
            run(renewed, 0, "list", "--repo", repo, "--json");
            extra(renewed, 0, "list", "--repo", repo);
            run(renewed, 0, "show", "--repo", repo, "latest", "--json");
            extra(renewed, 0, "show", "--repo", repo, "latest");

            // a local repository opened with a password file, and everything at debug level
            Path pwFile = dir.resolve("pw");
            Files.writeString(pwFile, REPO_PASSWORD + "\n");
            Map<String, String> debug = new HashMap<>(renewed);
            debug.remove("BACKUPKIT_PASSWORD");
            debug.put("JAVA_TOOL_OPTIONS", "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug");
            String local = dir.resolve("local").toString();
            extra(debug, 0, "init", "--repo", local, "--password-file", pwFile.toString(), "--json");
            extra(debug, 0, "backup", "--repo", local, "--password-file", pwFile.toString(), "--db", server + "shop", "--json");
            run(debug, 0, "list", "--repo", repo, "--password-file", writeFile("pw2", NEW_PASSWORD).toString(), "--json");
            run(debug, null, "list", "--repo", repo, "--password-file", writeFile("pw3", WRONG_PASSWORD).toString());
            run(debug, null, "backup", "--repo", repo, "--password-file", writeFile("pw4", NEW_PASSWORD).toString(), "--db", server + "shop", "--json",
                    "--db-password-file", writeFile("dbpw", WRONG_DB_PASSWORD).toString());

            // the canary: a run that does repeat a "secret" (a path that errors echo) must be found, or the search is blind
            String canary = "canary-" + RUN + "-not-a-secret";
            run(renewed, 2, "list", "--repo", dir.resolve(canary).toString(), "-v", "--json");
            assertTrue(runs.get(runs.size() - 1).stderr().contains(canary), "the canary is echoed");
            secrets.put("canary (expected once)", canary);

            List<String> hits = new ArrayList<>();
            long lines = 0;
            for (CliProcess.Result r : runs) {
                String all = r.stdout() + "\n" + r.stderr();
                lines += all.lines().count();
                secrets.forEach((what, secret) -> {
                    for (String form : forms(secret)) {
                        int at = all.indexOf(form);
                        if (at >= 0) {
                            hits.add(what + " (as '" + form + "') in: backupkit " + String.join(" ", r.args()) + "\n  …"
                                    + all.substring(Math.max(0, at - 120), Math.min(all.length(), at + form.length() + 40)) + "…");
                        }
                    }
                });
            }
            System.out.println("secrets campaign: " + runs.size() + " CLI runs, " + lines + " lines of output, " + secrets.size()
                    + " secrets and a canary in " + secrets.values().stream().mapToInt(s -> forms(s).size()).sum() + " forms");
            List<String> canaryHits = hits.stream().filter(h -> h.startsWith("canary")).toList();
            assertTrue(!canaryHits.isEmpty(), "the search finds what is there");
            hits.removeAll(canaryHits);
            assertEquals(List.of(), hits, "secrets in CLI output");
            assertTrue(runs.size() >= 30 && lines > 1000, "the session really ran: " + runs.size() + " runs, " + lines + " lines");
        }
    }

    private Path writeFile(String name, String content) throws java.io.IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, content + "\n");
        return f;
    }

    /** A run that adds variety rather than a new path (text next to JSON, …): only with -Dbackupkit.secrets.full=true. */
    private void extra(Map<String, String> env, Integer expected, String... args) {
        if (FULL) {
            run(env, expected, args);
        }
    }

    /** Runs the jar; {@code expected} null accepts any failure (exit ≠ 0). */
    private CliProcess.Result run(Map<String, String> env, Integer expected, String... args) {
        long start = System.nanoTime();
        CliProcess.Result r = CliProcess.run(env, args);
        System.out.printf("%5d ms  exit %d  backupkit %s%n", (System.nanoTime() - start) / 1_000_000, r.exitCode(), String.join(" ", args));
        runs.add(r);
        try {
            // kept for reading after the run: target/secrets-campaign/NN.txt
            Path out = Path.of("target", "secrets-campaign");
            Files.createDirectories(out);
            Files.writeString(out.resolve(String.format("%02d.txt", runs.size())), r.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        if (expected == null) {
            assertTrue(r.exitCode() != 0, () -> "expected a failure: " + r);
        } else {
            r.expect(expected);
        }
        if (List.of(args).contains("--json")) {
            r.json();
        }
        return r;
    }

    /** The secret as it could appear: raw, URL-encoded, base64 (standard and URL-safe, at every alignment). */
    static Set<String> forms(String secret) {
        Set<String> forms = new LinkedHashSet<>();
        forms.add(secret);
        forms.add(URLEncoder.encode(secret, StandardCharsets.UTF_8));
        forms.add(URLEncoder.encode(secret, StandardCharsets.UTF_8).replace("+", "%20"));
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        for (int shift = 0; shift < 3; shift++) {
            // the secret inside a longer base64 text ("user:secret" in a Basic header) starts at any of
            // three byte alignments; the characters not touched by the neighbours are the same in all
            byte[] shifted = new byte[shift + bytes.length];
            System.arraycopy(bytes, 0, shifted, shift, bytes.length);
            for (Base64.Encoder enc : List.of(Base64.getEncoder(), Base64.getUrlEncoder())) {
                String b64 = enc.withoutPadding().encodeToString(shifted);
                int from = shift == 0 ? 0 : (shift * 4 + 2) / 3 + 1;
                int to = b64.length() - 3;
                if (to - from >= 12) {
                    forms.add(b64.substring(from, to));
                }
            }
        }
        return forms;
    }

    @Test
    void theBase64FormsFindASecretInsideLongerText() {
        String secret = "s3cr3t-" + RUN + "/+=";
        for (String prefix : List.of("", "u:", "us:", "use:", "user:")) {
            String encoded = Base64.getEncoder().encodeToString((prefix + secret + "!").getBytes(StandardCharsets.UTF_8));
            assertTrue(forms(secret).stream().anyMatch(encoded::contains), prefix + " → " + encoded);
        }
        String inUrl = "postgresql://u:" + URLEncoder.encode(secret, StandardCharsets.UTF_8).replace("+", "%20") + "@h/db";
        assertTrue(forms(secret).stream().anyMatch(inUrl::contains), inUrl);
    }
}
