package io.backupkit.k8s.internal;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.k8s.KubernetesAccessDeniedException;
import io.backupkit.k8s.KubernetesException;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.WebSocketHandshakeException;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns fabric8's exceptions into backupkit's: RBAC denial names the verb, resource and namespace and
 * points at the Role; unreachable API servers and other failures say which operation failed.
 */
public final class KubernetesErrors {
    /** Where the Role backupkit needs is documented. */
    public static final String RBAC_DOC = "docs/kubernetes.md#rbac";

    private KubernetesErrors() {
    }

    /** The HTTP status of a failed Kubernetes request anywhere in the cause chain, or 0. */
    public static int code(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof KubernetesClientException k && k.getCode() > 0) {
                return k.getCode();
            }
            if (c instanceof WebSocketHandshakeException w && w.getResponse() != null) {
                return w.getResponse().code();
            }
        }
        return 0;
    }

    /** The API server's own words (Status message) where it gave any. */
    static String serverMessage(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null
                    && !k.getStatus().getMessage().isBlank()) {
                return k.getStatus().getMessage();
            }
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof WebSocketHandshakeException w && w.getResponse() != null) {
                // a refused websocket upgrade keeps no body (the JDK client drops it): say what is known
                return "the API server answered " + w.getResponse().code() + " " + w.getResponse().message();
            }
        }
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c.getMessage() != null && !(c instanceof CompletionException) && !(c instanceof ExecutionException)) {
                return c.getMessage();
            }
        }
        return t.getClass().getSimpleName();
    }

    /**
     * The backupkit exception for a failed request.
     *
     * @param verb      what was attempted (get, list, create, update)
     * @param resource  on what (pods, pods/exec, pods/portforward, secrets, leases)
     * @param namespace where
     * @param what      the object, for the message ("pod db-0", "secret shop-key")
     */
    public static BackupException translate(Throwable e, String verb, String resource, String namespace, String what) {
        if (e instanceof BackupException b) {
            return b;
        }
        int code = code(e);
        String server = serverMessage(e);
        if (code == 403) {
            return new KubernetesAccessDeniedException("Kubernetes RBAC denied " + verb + " on " + resource + " in namespace " + namespace
                    + " (" + what + "): " + server + ". Grant '" + verb + "' on '" + resource + "' to the account backupkit runs as "
                    + "(the whole Role is in " + RBAC_DOC + ")", verb, resource, namespace, e);
        }
        if (code == 401) {
            return new ConfigurationException("the Kubernetes API server rejected backupkit's credentials (401) while trying to " + verb
                    + " " + resource + " in namespace " + namespace + ": check the kubeconfig context or the service account token", e);
        }
        if (code == 0) {
            return new KubernetesException("cannot " + verb + " " + resource + " in namespace " + namespace + " (" + what
                    + "): the Kubernetes API server did not answer: " + server, e);
        }
        return new KubernetesException("Kubernetes refused to " + verb + " " + resource + " in namespace " + namespace + " (" + what
                + ", HTTP " + code + "): " + server, e);
    }
}
