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
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

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
        // All parameters are read first and applied afterwards in one fixed order, so the result never
        // depends on their order in the URI (sse-kms-key-id before sse=aws:kms once meant the default key).
        Map<String, String> params = query(uri, shown);
        List<String> unknown = params.keySet().stream()
                .filter(n -> !KNOWN.contains(n) && !n.startsWith("storage-class."))
                .toList();
        if (!unknown.isEmpty()) {
            throw new ConfigurationException("unknown parameter" + (unknown.size() > 1 ? "s " : " ")
                    + unknown.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", ")) + " in s3:// location "
                    + shown + "; known: " + String.join(", ", KNOWN) + ", storage-class.<kind>");
        }
        apply(params, shown, "region", b::region);
        apply(params, shown, "endpoint", v -> b.endpointOverride(URI.create(v)));
        apply(params, shown, "path-style", v -> b.pathStyle(bool(v)));
        apply(params, shown, "profile", v -> b.credentialsProvider(ProfileCredentialsProvider.builder().profileName(v).build()));
        apply(params, shown, "part-size", v -> b.partSize(bytes(v)));
        apply(params, shown, "max-concurrency", v -> b.maxConcurrency(Integer.parseInt(v)));
        apply(params, shown, "max-attempts", v -> b.maxAttempts(Integer.parseInt(v)));
        apply(params, shown, "max-connections", v -> b.maxConnections(Integer.parseInt(v)));
        apply(params, shown, "checksum", v -> b.checksumAlgorithm(v.equalsIgnoreCase("none") ? null : checksum(v)));
        apply(params, shown, "conditional-writes", v -> b.conditionalWrites(conditionalWrites(v)));
        // the general storage class first, then the per-kind ones, which win for their kind
        apply(params, shown, "storage-class", v -> {
            StorageClass c = storageClass(v);
            for (ObjectKind k : ObjectKind.values()) {
                b.storageClass(k, c);
            }
        });
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().startsWith("storage-class.")) {
                ObjectKind kind = kind(e.getKey(), shown);
                apply(params, shown, e.getKey(), v -> b.storageClass(kind, storageClass(v)));
            }
        }
        serverSideEncryption(b, params.get("sse"), params.get("sse-kms-key-id"), shown);
        return b;
    }

    /** Parameter names an s3:// location understands, besides {@code storage-class.<kind>}. */
    static final List<String> KNOWN = List.of("region", "endpoint", "path-style", "profile", "part-size", "max-concurrency",
            "max-attempts", "max-connections", "storage-class", "sse", "sse-kms-key-id", "checksum", "conditional-writes");

    private static void apply(Map<String, String> params, String shown, String name, Consumer<String> setter) {
        String value = params.get(name);
        if (value == null) {
            return;
        }
        try {
            setter.accept(value);
        } catch (IllegalArgumentException ex) {
            // NumberFormatException too; messages of the JDK's parsers are not helpful enough alone
            throw new ConfigurationException("invalid value '" + Storages.redact(value) + "' for " + name + " in " + shown + ": "
                    + (ex instanceof NumberFormatException ? "expected a number" : ex.getMessage()));
        }
    }

    /** {@code sse} and {@code sse-kms-key-id} decided together: a key id means SSE-KMS, and contradicts SSE-S3. */
    private static void serverSideEncryption(S3Storage.Builder b, String sse, String kmsKeyId, String shown) {
        String mode = sse == null ? null : sse.toLowerCase(Locale.ROOT);
        boolean s3Managed = "aes256".equals(mode) || "sse-s3".equals(mode);
        boolean kms = "aws:kms".equals(mode) || "sse-kms".equals(mode);
        if (mode != null && !s3Managed && !kms) {
            throw new ConfigurationException("invalid value '" + sse + "' for sse in " + shown + ": expected AES256 or aws:kms");
        }
        if (s3Managed && kmsKeyId != null) {
            throw new ConfigurationException("contradictory parameters in " + shown + ": sse=" + sse
                    + " is encryption with S3-managed keys, but sse-kms-key-id names a KMS key; use sse=aws:kms with"
                    + " sse-kms-key-id, or drop sse-kms-key-id");
        }
        if (s3Managed) {
            b.serverSideEncryptionS3();
        } else if (kms || kmsKeyId != null) {
            b.serverSideEncryptionKms(kmsKeyId);
        }
    }

    private static ObjectKind kind(String parameter, String shown) {
        String k = parameter.substring("storage-class.".length());
        try {
            return ObjectKind.parse(k);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("unknown object kind '" + k + "' in parameter " + parameter + " of " + shown
                    + "; kinds: " + java.util.Arrays.stream(ObjectKind.values()).map(o -> o.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", ")));
        }
    }

    private static ConditionalWrites conditionalWrites(String v) {
        try {
            return ConditionalWrites.valueOf(v.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected if-none-match or head-before-put");
        }
    }

    /** Name (lower-case) to value; each parameter at most once, none empty, no credentials. */
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
                throw new ConfigurationException("malformed parameter '" + Storages.redact(pair) + "' in " + shown
                        + "; expected name=value");
            }
            String name = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.contains("secret") || lower.contains("password") || lower.equals("access-key") || lower.contains("token")) {
                throw new ConfigurationException("credentials in the location " + shown + " are not accepted; use the AWS"
                        + " environment variables, a profile (?profile=name) or S3Storage.builder().credentials(…)");
            }
            String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            if (value.isBlank()) {
                throw new ConfigurationException("parameter " + lower + " in " + shown + " has no value");
            }
            if (result.containsKey(lower)) {
                throw new ConfigurationException("parameter " + lower + " is given twice in " + shown + "; give it once");
            }
            result.put(lower, value);
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
