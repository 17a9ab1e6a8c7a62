package io.backupkit.s3;

import io.backupkit.ConfigurationException;
import io.backupkit.Storages;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code s3://} query parameters mean the same whatever their order: every case is parsed in every
 * permutation of its parameters and must give the same settings (or the same error).
 */
class S3LocationParametersTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                // SSE-KMS with a key: the key id must survive whichever parameter comes first
                ok(List.of("sse=aws:kms", "sse-kms-key-id=alias/backups"), Map.of("sse", "aws:kms", "sse-kms-key-id", "alias/backups")),
                ok(List.of("sse=sse-kms", "sse-kms-key-id=arn:aws:kms:eu-west-1:111122223333:key/1234abcd"),
                        Map.of("sse", "aws:kms", "sse-kms-key-id", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd")),
                // a key id alone means SSE-KMS with that key
                ok(List.of("sse-kms-key-id=alias/backups", "region=eu-west-1"), Map.of("sse", "aws:kms", "sse-kms-key-id", "alias/backups",
                        "region", "eu-west-1")),
                ok(List.of("sse=aws:kms"), Map.of("sse", "aws:kms", "sse-kms-key-id", "null")),
                ok(List.of("sse=AES256", "checksum=none"), Map.of("sse", "AES256", "sse-kms-key-id", "null", "checksum", "null")),
                // the per-kind storage class wins over the general one, in any order
                ok(List.of("storage-class=STANDARD_IA", "storage-class.config=STANDARD", "storage-class.data=GLACIER_IR"),
                        Map.of("storage-class.data", "GLACIER_IR", "storage-class.config", "STANDARD", "storage-class.keys", "STANDARD_IA",
                                "storage-class.wal", "STANDARD_IA")),
                ok(List.of("sse=aws:kms", "sse-kms-key-id=k1", "storage-class=ONEZONE_IA", "storage-class.DATA=GLACIER_IR"),
                        Map.of("sse", "aws:kms", "sse-kms-key-id", "k1", "storage-class.data", "GLACIER_IR", "storage-class.index", "ONEZONE_IA")),
                ok(List.of("region=eu-west-1", "endpoint=http://127.0.0.1:9000", "path-style=true", "part-size=8MiB", "max-concurrency=6",
                        "conditional-writes=head-before-put"),
                        Map.of("region", "eu-west-1", "endpoint", "http://127.0.0.1:9000", "path-style", "true", "part-size", "8388608",
                                "max-concurrency", "6", "conditional-writes", "HEAD_BEFORE_PUT")),
                ok(List.of("checksum=SHA256", "max-attempts=9", "max-connections=12", "profile=backup"),
                        Map.of("checksum", "SHA256", "max-attempts", "9", "max-connections", "12", "credentials", "ProfileCredentialsProvider")),
                // contradictions and mistakes: one clear error whatever the order
                error(List.of("sse=AES256", "sse-kms-key-id=alias/backups"), "contradictory parameters"),
                error(List.of("sse=AES256", "sse-kms-key-id=alias/backups", "region=eu-west-1"), "contradictory parameters"),
                error(List.of("region=eu-west-1", "region=us-east-1"), "region is given twice"),
                error(List.of("Region=eu-west-1", "region=eu-west-1"), "region is given twice"),
                error(List.of("sse-kms-key-id=a", "sse-kms-key-id=b", "sse=aws:kms"), "sse-kms-key-id is given twice"),
                error(List.of("sse=aws:kms", "colour=blue"), "unknown parameter 'colour'"),
                error(List.of("sse=AES256", "sse-kms-key-id=k", "colour=blue"), "unknown parameter 'colour'"),
                error(List.of("storage-class.dta=STANDARD", "sse=aws:kms"), "unknown object kind 'dta'"),
                error(List.of("sse=aws:kms", "sse-kms-key-id="), "sse-kms-key-id in"),
                error(List.of("sse=kms", "region=eu-west-1"), "expected AES256 or aws:kms"),
                error(List.of("max-concurrency=lots", "region=eu-west-1"), "expected a number"),
                error(List.of("conditional-writes=sometimes"), "expected if-none-match or head-before-put"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sameMeaning_inEveryOrder(List<String> params, Map<String, String> expected, String error) {
        Set<String> results = new LinkedHashSet<>();
        for (List<String> order : permutations(params)) {
            URI uri = URI.create("s3://bucket/shop?" + String.join("&", order));
            try {
                Map<String, String> settings = S3StorageProvider.builder(uri).effectiveSettings();
                if (error != null) {
                    fail(order + " was accepted, expected an error containing '" + error + "': " + settings);
                }
                expected.forEach((k, v) -> assertEquals(v, settings.get(k), () -> k + " for " + order + ": " + settings));
                results.add(settings.toString());
            } catch (ConfigurationException e) {
                if (error == null) {
                    fail(order + " was refused: " + e.getMessage(), e);
                }
                assertTrue(e.getMessage().contains(error), () -> order + ": " + e.getMessage());
                assertFalse(e.getMessage().contains("No enum constant"), e.getMessage());
                // the message names the location as given; the rest must not depend on the order
                results.add(e.getMessage().replace(Storages.redact(uri.toString()), "<location>"));
            }
        }
        assertEquals(1, results.size(), () -> "the order changed the outcome: " + results);
    }

    private static Arguments ok(List<String> params, Map<String, String> expected) {
        return Arguments.of(params, expected, null);
    }

    private static Arguments error(List<String> params, String message) {
        return Arguments.of(params, Map.of(), message);
    }

    static List<List<String>> permutations(List<String> items) {
        if (items.size() <= 1) {
            return List.of(items);
        }
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            List<String> rest = new ArrayList<>(items);
            String first = rest.remove(i);
            for (List<String> p : permutations(rest)) {
                List<String> l = new ArrayList<>();
                l.add(first);
                l.addAll(p);
                out.add(l);
            }
        }
        return out;
    }
}
