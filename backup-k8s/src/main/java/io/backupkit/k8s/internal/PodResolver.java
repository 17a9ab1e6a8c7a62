package io.backupkit.k8s.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.k8s.KubernetesException;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Finds the pod and container the tools run in, by name or by label selector, and checks that it can
 * run them now: the pod exists, is Running and Ready and not being deleted, and the container exists
 * and runs. A selector must match exactly one ready pod (a cluster's primary, not any replica).
 */
public final class PodResolver {
    /** kubectl's annotation naming the container exec uses when none is given. */
    static final String DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";

    private PodResolver() {
    }

    /** A pod and container that were ready when resolved. */
    public record ResolvedPod(String namespace, String pod, String container) {
        public String describe() {
            return "pod " + pod + " (container " + container + ") in namespace " + namespace;
        }
    }

    public static ResolvedPod resolve(KubernetesClient client, String namespace, String podName, String selector, String container) {
        Pod pod;
        if (podName != null) {
            try {
                pod = client.pods().inNamespace(namespace).withName(podName).get();
            } catch (KubernetesClientException e) {
                throw KubernetesErrors.translate(e, "get", "pods", namespace, "pod " + podName);
            }
            if (pod == null) {
                throw new ConfigurationException("pod " + podName + " not found in namespace " + namespace
                        + ": check the name (kubectl get pods -n " + namespace + ") or select the pod by label");
            }
            if (selector != null && !matches(pod, selector)) {
                throw new ConfigurationException("pod " + podName + " in namespace " + namespace + " does not match the selector "
                        + selector + " (its labels: " + labels(pod) + ")");
            }
        } else if (selector != null) {
            List<Pod> pods;
            try {
                pods = client.pods().inNamespace(namespace).withLabelSelector(selector).list().getItems();
            } catch (KubernetesClientException e) {
                throw KubernetesErrors.translate(e, "list", "pods", namespace, "pods matching " + selector);
            }
            List<Pod> ready = pods.stream().filter(p -> notReadyReason(p, null).isEmpty()).toList();
            if (ready.isEmpty()) {
                if (pods.isEmpty()) {
                    throw new ConfigurationException("no pod in namespace " + namespace + " matches the selector " + selector
                            + " (kubectl get pods -n " + namespace + " -l '" + selector + "')");
                }
                throw new KubernetesException("no ready pod in namespace " + namespace + " matches the selector " + selector + ": "
                        + String.join("; ", pods.stream().map(p -> name(p) + " " + notReadyReason(p, null).orElse("ready")).toList())
                        + "; wait until one is ready (during a failover, retry)");
            }
            if (ready.size() > 1) {
                throw new ConfigurationException("the selector " + selector + " matches " + ready.size() + " ready pods in namespace "
                        + namespace + " (" + String.join(", ", ready.stream().map(PodResolver::name).toList())
                        + "); it must select one, e.g. a cluster's primary: cnpg.io/cluster=NAME,cnpg.io/instanceRole=primary "
                        + "(CloudNativePG) or cluster-name=NAME,spilo-role=master (Zalando)");
            }
            pod = ready.get(0);
        } else {
            throw new ConfigurationException("give a pod name or a label selector");
        }
        String c = chooseContainer(pod, container, namespace);
        Optional<String> notReady = notReadyReason(pod, c);
        if (notReady.isPresent()) {
            throw new KubernetesException("pod " + name(pod) + " in namespace " + namespace + " is not ready: " + notReady.get()
                    + "; wait until it is ready or choose another pod");
        }
        return new ResolvedPod(namespace, name(pod), c);
    }

    private static String name(Pod p) {
        return p.getMetadata().getName();
    }

    private static Map<String, String> labels(Pod p) {
        return p.getMetadata().getLabels() == null ? Map.of() : p.getMetadata().getLabels();
    }

    /** Equality-based selectors (a=b, a==b, a!=b, comma-separated) as kubectl -l writes them. */
    static boolean matches(Pod pod, String selector) {
        Map<String, String> labels = labels(pod);
        for (String term : selector.split(",")) {
            String t = term.strip();
            if (t.isEmpty()) {
                continue;
            }
            if (t.contains("!=")) {
                String[] kv = t.split("!=", 2);
                if (Objects.equals(labels.get(kv[0].strip()), kv[1].strip())) {
                    return false;
                }
            } else if (t.contains("=")) {
                String[] kv = t.split("==?", 2);
                if (!Objects.equals(labels.get(kv[0].strip()), kv[1].strip())) {
                    return false;
                }
            } else if (!labels.containsKey(t)) {
                return false;
            }
        }
        return true;
    }

    private static String chooseContainer(Pod pod, String wanted, String namespace) {
        List<Container> containers = pod.getSpec() == null || pod.getSpec().getContainers() == null ? List.of() : pod.getSpec().getContainers();
        List<String> names = containers.stream().map(Container::getName).toList();
        if (wanted != null) {
            if (!names.contains(wanted)) {
                throw new ConfigurationException("container " + wanted + " not found in pod " + name(pod) + " in namespace " + namespace
                        + " (its containers: " + String.join(", ", names) + ")");
            }
            return wanted;
        }
        if (names.isEmpty()) {
            throw new ConfigurationException("pod " + name(pod) + " in namespace " + namespace + " has no containers");
        }
        Map<String, String> annotations = pod.getMetadata().getAnnotations();
        String annotated = annotations == null ? null : annotations.get(DEFAULT_CONTAINER_ANNOTATION);
        if (annotated != null && names.contains(annotated)) {
            return annotated;
        }
        // database operators name the database container; prefer it over sidecars listed first
        for (String preferred : List.of("postgres", "postgresql", "database")) {
            if (names.contains(preferred)) {
                return preferred;
            }
        }
        return names.get(0);
    }

    /** Why the pod (and {@code container}, if given) cannot run a command now; empty when it can. */
    static Optional<String> notReadyReason(Pod pod, String container) {
        if (pod.getMetadata().getDeletionTimestamp() != null) {
            return Optional.of("it is being deleted");
        }
        if (pod.getStatus() == null) {
            return Optional.of("it has no status yet");
        }
        String phase = pod.getStatus().getPhase();
        if (!"Running".equals(phase)) {
            return Optional.of("phase " + phase);
        }
        boolean ready = pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        if (!ready) {
            String why = pod.getStatus().getConditions() == null ? "" : pod.getStatus().getConditions().stream()
                    .filter(c -> "Ready".equals(c.getType())).map(PodCondition::getMessage).filter(Objects::nonNull)
                    .findFirst().map(m -> " (" + m + ")").orElse("");
            return Optional.of("condition Ready is not True" + why);
        }
        if (container != null && pod.getStatus().getContainerStatuses() != null) {
            for (ContainerStatus s : pod.getStatus().getContainerStatuses()) {
                if (container.equals(s.getName())) {
                    if (s.getState() != null && s.getState().getRunning() == null) {
                        String state = s.getState().getWaiting() != null ? "waiting (" + s.getState().getWaiting().getReason() + ")"
                                : s.getState().getTerminated() != null ? "terminated (" + s.getState().getTerminated().getReason() + ")"
                                : "not running";
                        return Optional.of("container " + container + " is " + state);
                    }
                    if (Boolean.FALSE.equals(s.getReady())) {
                        return Optional.of("container " + container + " is not ready");
                    }
                }
            }
        }
        return Optional.empty();
    }
}
