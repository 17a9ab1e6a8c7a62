package io.backupkit.k8s.internal;

import io.fabric8.kubernetes.client.KubernetesClient;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * What a {@link PodProcess} needs from its executor.
 *
 * @param commandTimeout longest a command may run before it is stopped; null for no limit
 * @param startTimeout   how long to wait for the wrapper to report that the tool started
 * @param killGrace      time between TERM and KILL when a command is stopped
 */
public record ExecContext(KubernetesClient client, PodResolver.ResolvedPod pod, Duration commandTimeout, Duration startTimeout,
                          Duration killGrace, ScheduledExecutorService scheduler) {
}
