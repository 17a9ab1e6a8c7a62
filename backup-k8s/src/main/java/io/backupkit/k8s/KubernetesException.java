package io.backupkit.k8s;

import io.backupkit.BackupException;

/**
 * The Kubernetes side of an operation failed in a way a retry may fix: the API server could not be
 * reached, the pod is not ready, or an exec or port-forward connection dropped before the command
 * ended. Access denied is a {@link KubernetesAccessDeniedException} (fix the Role); a pod, container
 * or Secret that does not exist is a {@link io.backupkit.ConfigurationException} (fix the name).
 */
public class KubernetesException extends BackupException {
    private static final long serialVersionUID = 1L;

    public KubernetesException(String message) {
        super(message);
    }

    public KubernetesException(String message, Throwable cause) {
        super(message, cause);
    }
}
