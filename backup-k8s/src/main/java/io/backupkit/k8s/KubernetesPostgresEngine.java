package io.backupkit.k8s;

import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;

import java.util.Map;

/**
 * The {@link DatabaseEngine} for {@code k8s://} URLs, found by {@link java.util.ServiceLoader}: a
 * PostgreSQL database in a pod (see {@link KubernetesDatabaseUrl} and {@link KubernetesPostgres}).
 * Options are the PostgreSQL engine's. Snapshots are ordinary {@code postgresql} snapshots.
 *
 * <pre>{@code
 * backupkit backup --repo /backups/shop --db 'k8s://shop?selector=cnpg.io/cluster=shop,cnpg.io/instanceRole=primary&database=shop&secret=shop-app'
 * }</pre>
 */
public final class KubernetesPostgresEngine implements DatabaseEngine {
    /** Engine name (the snapshots it writes are {@code postgresql} snapshots). */
    public static final String NAME = "postgresql-k8s";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean supports(String url) {
        return KubernetesDatabaseUrl.isKubernetesUrl(url);
    }

    @Override
    public BackupSource source(String url, Map<String, String> options) {
        return KubernetesPostgres.fromUrl(url).source(options);
    }

    @Override
    public RestoreTarget target(String url, Map<String, String> options) {
        return KubernetesPostgres.fromUrl(url).target(options);
    }
}
