package io.backupkit.s3;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * The JVM properties the S3 tests set (credentials, trust store, proxies), put back as they were: the other tests of a
 * module run in the same JVM.
 */
public final class SystemProperties {
    private SystemProperties() {
    }

    /** The current values of {@code names} (null: not set), for {@link #restore}. */
    public static Map<String, String> of(Collection<String> names) {
        Map<String, String> values = new HashMap<>();
        names.forEach(k -> values.put(k, System.getProperty(k)));
        return values;
    }

    /** Sets each property to its value, clearing those whose value is null. */
    public static void restore(Map<String, String> values) {
        values.forEach((k, v) -> {
            if (v == null) {
                System.clearProperty(k);
            } else {
                System.setProperty(k, v);
            }
        });
    }
}
