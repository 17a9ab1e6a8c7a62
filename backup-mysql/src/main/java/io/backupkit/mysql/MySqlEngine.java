package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.mysql.internal.MySqlConnectionConfig;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.EngineOptions;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The MySQL / MariaDB {@link DatabaseEngine}, found by {@link java.util.ServiceLoader} for
 * {@code mysql://}, {@code mariadb://}, {@code jdbc:mysql://} and {@code jdbc:mariadb://} URLs. A URL
 * without a database means the whole server.
 *
 * <p>Source options: {@code user}, {@code password}, {@code jobs}, {@code lock} (true/false),
 * {@code lockNonTransactional}, {@code users}, {@code lockWaitSeconds}. Target options: {@code user},
 * {@code password}, {@code database}, {@code dropExisting}, {@code tables} (comma separated),
 * {@code schemaOnly}, {@code users}, {@code jobs}, {@code useInserts}, {@code lockWaitSeconds},
 * {@code recoverTo} ("latest", FILE:OFFSET or an ISO-8601 time: point-in-time recovery from the
 * binary log archive), {@code binlogSource}, {@code toolDirectory}.
 *
 * <pre>{@code
 * DatabaseEngine mysql = new MySqlEngine();
 * BackupSource source = mysql.source("mariadb://backup@db1/shop", Map.of("password", secret));
 * }</pre>
 */
public final class MySqlEngine implements DatabaseEngine {
    public static final String NAME = "mysql";

    private static final Set<String> SOURCE_OPTIONS = Set.of("user", "password", "jobs", "lock", "lockNonTransactional", "users",
            "lockWaitSeconds");
    private static final Set<String> TARGET_OPTIONS = Set.of("user", "password", "database", "dropExisting", "tables", "schemaOnly",
            "dataOnly", "users", "jobs", "useInserts", "lockWaitSeconds", "recoverTo", "binlogSource", "toolDirectory");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean supports(String url) {
        return MySqlConnectionConfig.isMySqlUrl(url);
    }

    @Override
    public BackupSource source(String url, Map<String, String> options) {
        EngineOptions.requireKnown("MySQL", "source", options, SOURCE_OPTIONS);
        MySqlSource.Builder b = MySqlSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "user" -> b.user(v);
                case "password" -> b.password(v.toCharArray());
                case "jobs" -> b.jobs(EngineOptions.number(k, v));
                case "lock" -> b.lock(EngineOptions.flag(k, v));
                case "lockNonTransactional" -> b.lockNonTransactionalTables(EngineOptions.flag(k, v));
                case "users" -> b.users(EngineOptions.flag(k, v));
                case "lockWaitSeconds" -> b.lockWaitTimeout(Duration.ofSeconds(EngineOptions.number(k, v)));
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    @Override
    public RestoreTarget target(String url, Map<String, String> options) {
        EngineOptions.requireKnown("MySQL", "target", options, TARGET_OPTIONS);
        MySqlTarget.Builder b = MySqlTarget.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "user" -> b.user(v);
                case "password" -> b.password(v.toCharArray());
                case "database" -> b.database(v);
                case "dropExisting" -> {
                    if (EngineOptions.flag(k, v)) {
                        b.dropExisting();
                    }
                }
                case "tables" -> b.tables(v.split("\\s*,\\s*"));
                case "schemaOnly" -> {
                    if (EngineOptions.flag(k, v)) {
                        b.schemaOnly();
                    }
                }
                case "users" -> {
                    if (EngineOptions.flag(k, v)) {
                        b.users();
                    }
                }
                case "useInserts" -> {
                    if (EngineOptions.flag(k, v)) {
                        b.useInserts();
                    }
                }
                case "jobs" -> b.jobs(EngineOptions.number(k, v));
                case "lockWaitSeconds" -> b.lockWaitTimeout(Duration.ofSeconds(EngineOptions.number(k, v)));
                case "dataOnly" -> {
                    if (EngineOptions.flag(k, v)) {
                        throw new ConfigurationException("the MySQL engine does not restore data into an existing schema (dataOnly); "
                                + "restore into a new database, or replace the existing one with dropExisting");
                    }
                }
                case "recoverTo" -> b.recoverTo(BinlogRecoveryTarget.parse(v));
                case "binlogSource" -> b.binlogSource(v);
                case "toolDirectory" -> b.toolDirectory(java.nio.file.Path.of(v));
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }
}
