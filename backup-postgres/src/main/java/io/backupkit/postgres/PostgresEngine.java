package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The PostgreSQL {@link DatabaseEngine}, found by {@link java.util.ServiceLoader} for
 * {@code postgresql://}, {@code postgres://} and {@code jdbc:postgresql:} URLs.
 *
 * <p>Options: {@code user}, {@code password}, {@code sslMode}, {@code sslRootCert},
 * {@code toolDirectory}, {@code jobs} (source); {@code physical=true} for a physical base backup
 * ({@link PostgresPhysicalSource}) with {@code method} (auto, pg_basebackup, low-level),
 * {@code dataDirectory}, {@code blockSize}, {@code label}; {@code database}, {@code tables} (comma
 * separated), {@code schemaOnly}, {@code dataOnly}, {@code dropExisting}, {@code noOwner},
 * {@code noPrivileges} (target).
 *
 * <pre>{@code
 * DatabaseEngine pg = ServiceLoader.load(DatabaseEngine.class).stream().map(Provider::get)
 *         .filter(e -> e.supports(url)).findFirst().orElseThrow();
 * BackupSource source = pg.source(url, Map.of("password", secret));
 * }</pre>
 */
public final class PostgresEngine implements DatabaseEngine {
    public static final String NAME = "postgresql";

    private static final Set<String> SOURCE_OPTIONS = Set.of("user", "password", "sslMode", "sslRootCert", "toolDirectory", "jobs",
            "physical", "method", "dataDirectory", "blockSize", "label");
    private static final Set<String> TARGET_OPTIONS = Set.of("user", "password", "sslMode", "sslRootCert", "toolDirectory", "database",
            "tables", "schemaOnly", "dataOnly", "dropExisting", "noOwner", "noPrivileges", "maintenanceDatabase", "jobs");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean supports(String url) {
        return PgConnectionConfig.isPostgresUrl(url);
    }

    @Override
    public BackupSource source(String url, Map<String, String> options) {
        check(options, SOURCE_OPTIONS, "source");
        if (options.containsKey("physical") && flag("physical", options.get("physical"))) {
            return physicalSource(url, options);
        }
        for (String k : Set.of("method", "dataDirectory", "blockSize", "label")) {
            if (options.containsKey(k)) {
                throw new ConfigurationException("option " + k + " applies to physical backups only (physical=true, CLI: --physical)");
            }
        }
        PostgresSource.Builder b = PostgresSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "user" -> b.user(v);
                case "password" -> b.password(v.toCharArray());
                case "sslMode" -> b.sslMode(v);
                case "sslRootCert" -> b.sslRootCert(Path.of(v));
                case "toolDirectory" -> b.toolDirectory(Path.of(v));
                case "jobs" -> b.jobs(parseInt(k, v));
                case "physical" -> {
                    // physical=false: this logical source
                }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    private static BackupSource physicalSource(String url, Map<String, String> options) {
        PostgresPhysicalSource.Builder b = PostgresPhysicalSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "physical" -> {
                    // chose this source
                }
                case "user" -> b.user(v);
                case "password" -> b.password(v.toCharArray());
                case "sslMode" -> b.sslMode(v);
                case "sslRootCert" -> b.sslRootCert(Path.of(v));
                case "toolDirectory" -> b.toolDirectory(Path.of(v));
                case "jobs" -> b.readers(parseInt(k, v));
                case "method" -> b.method(switch (v.toLowerCase(java.util.Locale.ROOT)) {
                    case "auto" -> PostgresPhysicalSource.Method.AUTO;
                    case "pg_basebackup", "pg-basebackup", "basebackup" -> PostgresPhysicalSource.Method.PG_BASEBACKUP;
                    case "low-level", "low_level", "lowlevel" -> PostgresPhysicalSource.Method.LOW_LEVEL;
                    default -> throw new ConfigurationException("option method must be auto, pg_basebackup or low-level, was '" + v + "'");
                });
                case "dataDirectory" -> b.dataDirectory(Path.of(v));
                case "blockSize" -> b.blockSize(parseInt(k, v));
                case "label" -> b.label(v);
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    @Override
    public RestoreTarget target(String url, Map<String, String> options) {
        check(options, TARGET_OPTIONS, "target");
        PostgresTarget.Builder b = PostgresTarget.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "user" -> b.user(v);
                case "password" -> b.password(v.toCharArray());
                case "sslMode" -> b.sslMode(v);
                case "sslRootCert" -> b.sslRootCert(Path.of(v));
                case "toolDirectory" -> b.toolDirectory(Path.of(v));
                case "database" -> b.database(v);
                case "maintenanceDatabase" -> b.maintenanceDatabase(v);
                case "tables" -> b.tables(v.split("\\s*,\\s*"));
                case "schemaOnly" -> whenTrue(k, v, b::schemaOnly);
                case "dataOnly" -> whenTrue(k, v, b::dataOnly);
                case "dropExisting" -> whenTrue(k, v, b::dropExisting);
                case "noOwner" -> whenTrue(k, v, b::noOwner);
                case "noPrivileges" -> whenTrue(k, v, b::noPrivileges);
                case "jobs" -> parseInt(k, v); // restore parallelism comes from the RestoreManager
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    private static void check(Map<String, String> options, Set<String> known, String what) {
        for (String k : options.keySet()) {
            if (!known.contains(k)) {
                throw new ConfigurationException("unknown PostgreSQL " + what + " option '" + k + "'; known: " + new java.util.TreeSet<>(known));
            }
        }
    }

    private static void whenTrue(String key, String value, Runnable option) {
        if (flag(key, value)) {
            option.run();
        }
    }

    private static boolean flag(String key, String v) {
        if (v == null || v.isEmpty() || v.equalsIgnoreCase("true")) {
            return true;
        }
        if (v.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigurationException("option " + key + " must be true or false, was '" + v + "'");
    }

    private static int parseInt(String key, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationException("option " + key + " must be a number, was '" + v + "'");
        }
    }
}
