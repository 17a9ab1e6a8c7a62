package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The PostgreSQL {@link DatabaseEngine}, found by {@link java.util.ServiceLoader} for
 * {@code postgresql://}, {@code postgres://} and {@code jdbc:postgresql:} URLs.
 *
 * <p>Options: {@code user}, {@code password}, {@code sslMode}, {@code sslRootCert},
 * {@code toolDirectory}, {@code jobs}, {@code splitLargeTables}, {@code lockWaitTimeout} (30s, 500ms, 2m), {@code globals},
 * {@code rolePasswords} (source); {@code physical=true} for a physical base backup
 * ({@link PostgresPhysicalSource}) with {@code method} (auto, pg_basebackup, low-level),
 * {@code dataDirectory}, {@code blockSize}, {@code label}; {@code toolHost} and {@code toolPort}
 * (both: where the tools reach the server when they run in a pod); {@code database}, {@code tables}
 * (comma separated), {@code schemaOnly}, {@code dataOnly}, {@code dropExisting},
 * {@code terminateSessions}, {@code restoreGlobals}, {@code owner}, {@code noOwner},
 * {@code noPrivileges}, {@code maintenanceDatabase} (target).
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
            "splitLargeTables", "lockWaitTimeout", "globals", "rolePasswords", "toolHost", "toolPort", "physical", "method", "dataDirectory", "blockSize", "label");
    private static final Set<String> TARGET_OPTIONS = Set.of("user", "password", "sslMode", "sslRootCert", "toolDirectory", "database",
            "tables", "schemaOnly", "dataOnly", "dropExisting", "noOwner", "noPrivileges", "maintenanceDatabase", "jobs",
            "terminateSessions", "restoreGlobals", "owner", "toolHost", "toolPort");

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
                case "splitLargeTables" -> b.splitLargeTables(flag(k, v));
                case "lockWaitTimeout" -> b.lockWaitTimeout(parseDuration(k, v));
                case "globals" -> b.globals(flag(k, v));
                case "rolePasswords" -> b.rolePasswords(flag(k, v));
                case "toolHost", "toolPort" -> { }
                case "physical" -> {
                    // physical=false: this logical source
                }
                default -> throw new IllegalStateException(k);
            }
        });
        toolAddress(options, b::toolAddress);
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
                case "lockWaitTimeout", "globals", "rolePasswords" ->
                        throw new ConfigurationException("option " + k + " applies to logical backups only");
                case "toolHost", "toolPort" ->
                        throw new ConfigurationException("option " + k + " is not supported for physical backups yet");
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
                case "terminateSessions" -> whenTrue(k, v, b::terminateSessions);
                case "restoreGlobals" -> whenTrue(k, v, b::restoreGlobals);
                case "owner" -> b.owner(v);
                case "jobs" -> parseInt(k, v); // restore parallelism comes from the RestoreManager
                case "toolHost", "toolPort" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        toolAddress(options, b::toolAddress);
        return b.build();
    }

    private static void toolAddress(Map<String, String> options, java.util.function.ObjIntConsumer<String> set) {
        String host = options.get("toolHost");
        String port = options.get("toolPort");
        if (host != null || port != null) {
            set.accept(host != null ? host : "localhost", port != null ? parseInt("toolPort", port) : 5432);
        }
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

    /** "30s", "500ms", "2m", an ISO-8601 duration (PT30S) or plain seconds. */
    static Duration parseDuration(String key, String v) {
        String t = v == null ? "" : v.trim().toLowerCase(java.util.Locale.ROOT);
        try {
            if (t.startsWith("pt") || t.startsWith("p")) {
                return Duration.parse(t.toUpperCase(java.util.Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2).trim()));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1).trim()));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1).trim()));
            }
            return Duration.ofSeconds(Long.parseLong(t));
        } catch (RuntimeException e) {
            throw new ConfigurationException("option " + key + " must be a duration like 30s, 500ms or 2m, was '" + v + "'");
        }
    }

    private static int parseInt(String key, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationException("option " + key + " must be a number, was '" + v + "'");
        }
    }
}
