package io.backupkit.k8s;

import io.backupkit.ConfigurationException;

/**
 * Kubernetes RBAC refused an operation backupkit needs. The message names the verb, the resource and
 * the namespace, so the missing rule can be added to the Role (see docs/kubernetes.md for the whole
 * Role backupkit needs).
 *
 * <pre>{@code
 * catch (KubernetesAccessDeniedException e) {
 *     log.error("grant {} on {} in {}", e.verb(), e.resource(), e.namespace());
 * }
 * }</pre>
 */
public class KubernetesAccessDeniedException extends ConfigurationException {
    private static final long serialVersionUID = 1L;
    private final String verb;
    private final String resource;
    private final String namespace;

    public KubernetesAccessDeniedException(String message, String verb, String resource, String namespace, Throwable cause) {
        super(message, cause);
        this.verb = verb;
        this.resource = resource;
        this.namespace = namespace;
    }

    /** The verb that was denied: get, list, create, update, delete. */
    public String verb() {
        return verb;
    }

    /** The resource, with its subresource: pods, pods/exec, pods/portforward, secrets, leases. */
    public String resource() {
        return resource;
    }

    /** The namespace of the request. */
    public String namespace() {
        return namespace;
    }
}
