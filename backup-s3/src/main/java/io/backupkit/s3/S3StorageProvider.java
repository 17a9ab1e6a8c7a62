package io.backupkit.s3;

import io.backupkit.ConfigurationException;
import io.backupkit.Storages;
import io.backupkit.spi.Storage;
import io.backupkit.spi.StorageProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.StorageClass;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Opens {@link S3Storage} for {@code s3://} locations, found by {@link java.util.ServiceLoader} (so
 * {@code Repository.builder().location("s3://…")} and the CLI work once backup-s3 is on the class path).
 *
 * <pre>{@code
 * s3://bucket/prefix?region=eu-west-1
 * s3://backups/shop?endpoint=http://127.0.0.1:9000&path-style=true
 * s3://backups/shop?storage-class.data=STANDARD_IA&sse=aws:kms&sse-kms-key-id=alias/backups
 * }</pre>
 *
 * <p>Query parameters: {@code region}, {@code endpoint}, {@code path-style}, {@code profile} (AWS
 * profile for credentials), {@code part-size} (bytes, or with KiB/MiB/GiB), {@code max-concurrency},
 * {@code storage-class} (all kinds) and {@code storage-class.<kind>} ({@code data}, {@code wal}, …),
 * {@code sse} ({@code AES256} or {@code aws:kms}), {@code sse-kms-key-id}, {@code checksum}
 * ({@code CRC32C}, {@code CRC32}, {@code SHA256}, {@code none}), {@code conditional-writes}
 * ({@code if-none-match} or {@code head-before-put}), {@code max-attempts}, {@code max-connections}. Credentials never go in
 * the URI: they come from the SDK's default chain (environment, profile, instance role) or a profile.
 */
public final class S3StorageProvider implements StorageProvider {

    @Override
    public Set<String> schemes() {
        return Set.of("s3");
    }

    @Override
    public Storage open(URI uri) {
        return builder(uri).build();
    }

    /** The builder an {@code s3://} URI describes, to adjust further before building. */
    public static S3Storage.Builder builder(URI uri) {
        String shown = Storages.redact(uri.toString());
        if (!"s3".equalsIgnoreCase(uri.getScheme())) {
            throw new ConfigurationException("not an s3:// location: " + shown);
        }
        if (uri.getRawUserInfo() != null) {
            throw new ConfigurationException("credentials in the location " + shown + " are not accepted; use the AWS"
                    + " environment variables, a profile (?profile=name) or S3Storage.builder().credentials(…)");
        }
        String bucket = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
        if (bucket == null || bucket.isBlank()) {
            throw new ConfigurationException("the location " + shown + " names no bucket; expected s3://bucket/prefix");
        }
        S3Storage.Builder b = S3Storage.builder().bucket(bucket);
        String path = uri.getPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            b.prefix(path);
        }
        for (Map.Entry<String, String> e : query(uri, shown).entrySet()) {
            String name = e.getKey();
            String value = e.getValue();
            try {
                apply(b, name, value);
            } catch (IllegalArgumentException ex) {
                throw new ConfigurationException("invalid value '" + value + "' for " + name + " in " + shown + ": " + ex.getMessage());
            }
        }
        return b;
    }

    private static void apply(S3Storage.Builder b, String name, String value) {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith("storage-class.")) {
            b.storageClass(ObjectKind.parse(lower.substring("storage-class.".length())), storageClass(value));
            return;
        }
        switch (lower) {
            case "region" -> b.region(value);
            case "endpoint" -> b.endpointOverride(URI.create(value));
            case "path-style" -> b.pathStyle(bool(value));
            case "profile" -> b.credentialsProvider(ProfileCredentialsProvider.builder().profileName(value).build());
            case "part-size" -> b.partSize(bytes(value));
            case "max-concurrency" -> b.maxConcurrency(Integer.parseInt(value));
            case "max-attempts" -> b.maxAttempts(Integer.parseInt(value));
            case "max-connections" -> b.maxConnections(Integer.parseInt(value));
            case "storage-class" -> {
                StorageClass c = storageClass(value);
                for (ObjectKind k : ObjectKind.values()) {
                    b.storageClass(k, c);
                }
            }
            case "sse" -> {
                String v = value.toLowerCase(Locale.ROOT);
                if (v.equals("aes256") || v.equals("sse-s3")) {
                    b.serverSideEncryptionS3();
                } else if (v.equals("aws:kms") || v.equals("sse-kms")) {
                    b.serverSideEncryptionKms(null);
                } else {
                    throw new IllegalArgumentException("expected AES256 or aws:kms");
                }
            }
            case "sse-kms-key-id" -> b.serverSideEncryptionKms(value);
            case "checksum" -> b.checksumAlgorithm(value.equalsIgnoreCase("none") ? null : checksum(value));
            case "conditional-writes" -> b.conditionalWrites(
                    ConditionalWrites.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_')));
            default -> throw new ConfigurationException("unknown parameter '" + name + "' in s3:// location; known: region,"
                    + " endpoint, path-style, profile, part-size, max-concurrency, max-attempts, max-connections, storage-class,"
                    + " storage-class.<kind>, sse, sse-kms-key-id, checksum, conditional-writes");
        }
    }

    private static Map<String, String> query(URI uri, String shown) {
        Map<String, String> result = new LinkedHashMap<>();
        String raw = uri.getRawQuery();
        if (raw == null || raw.isEmpty()) {
            return result;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new ConfigurationException("malformed parameter '" + pair + "' in " + shown + "; expected name=value");
            }
            String name = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.contains("secret") || lower.contains("password") || lower.equals("access-key") || lower.contains("token")) {
                throw new ConfigurationException("credentials in the location " + shown + " are not accepted; use the AWS"
                        + " environment variables, a profile (?profile=name) or S3Storage.builder().credentials(…)");
            }
            result.put(name, URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return result;
    }

    private static boolean bool(String v) {
        if (v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException("expected true or false");
    }

    private static StorageClass storageClass(String v) {
        StorageClass c = StorageClass.fromValue(v.toUpperCase(Locale.ROOT));
        if (c == StorageClass.UNKNOWN_TO_SDK_VERSION) {
            throw new IllegalArgumentException("unknown storage class");
        }
        return c;
    }

    private static ChecksumAlgorithm checksum(String v) {
        String u = v.toUpperCase(Locale.ROOT);
        ChecksumAlgorithm a = ChecksumAlgorithm.fromValue(u);
        if (a == ChecksumAlgorithm.UNKNOWN_TO_SDK_VERSION) {
            throw new IllegalArgumentException("expected CRC32C, CRC32, CRC64NVME, SHA1, SHA256 or none");
        }
        return a;
    }

    static long bytes(String v) {
        String s = v.trim().toUpperCase(Locale.ROOT);
        long factor = 1;
        for (String[] unit : new String[][]{{"KIB", "1024"}, {"MIB", "1048576"}, {"GIB", "1073741824"}, {"K", "1024"},
                {"M", "1048576"}, {"G", "1073741824"}}) {
            if (s.endsWith(unit[0])) {
                factor = Long.parseLong(unit[1]);
                s = s.substring(0, s.length() - unit[0].length()).trim();
                break;
            }
        }
        return Long.parseLong(s) * factor;
    }
}
