package io.backupkit.ops;

import io.backupkit.Repository;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Prometheus text exposition (micrometer-registry-prometheus, optional dependency): for the
 * {@code /metrics} endpoint and for the one-shot {@code backupkit metrics} command, whose output
 * node_exporter's textfile collector reads.
 *
 * <pre>{@code
 * Files.writeString(Path.of("/var/lib/node_exporter/backupkit.prom"), PrometheusText.forRepository(repo, Targets.none()));
 * }</pre>
 */
public final class PrometheusText {
    private PrometheusText() {
    }

    /** A new Prometheus registry. */
    public static PrometheusMeterRegistry registry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    /** The repository's metrics ({@link RepositoryMetrics}), computed once, as Prometheus text. */
    public static String forRepository(Repository repository, RepositoryStatus.Targets targets) {
        PrometheusMeterRegistry registry = registry();
        new RepositoryMetrics(repository, targets).bindTo(registry);
        return registry.scrape();
    }
}
