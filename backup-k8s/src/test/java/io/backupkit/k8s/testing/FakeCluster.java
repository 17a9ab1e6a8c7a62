package io.backupkit.k8s.testing;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Kubernetes API server for tests: fabric8's mock server in CRUD mode (pods, secrets, leases are
 * stored and listed like on a real one), plus what it lacks:
 * <ul>
 *   <li>exec runs the command as a local process and speaks the v4.channel.k8s.io protocol (stdin,
 *       stdout, stderr, exit status on channel 3), like a kubelet would in the container;</li>
 *   <li>port-forward connects to a local port (by default the pod port itself on 127.0.0.1);</li>
 *   <li>RBAC: {@link #deny} makes a verb on a resource answer 403 with the API server's message;</li>
 *   <li>faults: {@link #dropNextExec} closes an exec connection mid-stream, without exit status;
 *   {@link #dropPortForwardsOnExec} cuts every open port-forward connection when a given exec starts.</li>
 * </ul>
 * Each container can get its own PATH, so a container without the PostgreSQL tools can be modelled.
 *
 * <pre>{@code
 * try (FakeCluster k8s = FakeCluster.start()) {
 *     k8s.addPod("shop", "db-0", Map.of("role", "primary"), "postgres");
 *     PodExecutor pod = PodExecutor.builder().client(k8s.client()).namespace("shop").pod("db-0").build();
 * }
 * }</pre>
 */
public final class FakeCluster implements AutoCloseable {
    private static final Pattern API_PATH = Pattern.compile(
            "^/(?:api/v1|apis/([^/]+)/([^/]+))/namespaces/([^/?]+)/([^/?]+)(?:/([^/?]+))?(?:/([^/?]+))?(?:\\?(.*))?$");

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final Set<String> denied = ConcurrentHashMap.newKeySet();
    private final Map<String, String> containerPath = new ConcurrentHashMap<>();
    private final Map<String, Integer> portMap = new ConcurrentHashMap<>();
    private final List<List<String>> execs = new CopyOnWriteArrayList<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final Queue<Fault> faults = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Set<PortForwardBridge> forwards = ConcurrentHashMap.newKeySet();
    private final Queue<Predicate<List<String>>> forwardCuts = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger forwardsCut = new java.util.concurrent.atomic.AtomicInteger();
    private final String defaultPath;

    /** A one-shot fault for the next exec whose command matches. */
    record Fault(Predicate<List<String>> match, long afterStdoutBytes, long afterStdinBytes) {
    }

    private FakeCluster() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        this.defaultPath = pgBin().map(p -> p + ":").orElse("") + System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        this.server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), responses,
                new Dispatcher(responses), false);
        server.init();
        this.client = newClient();
    }

    public static FakeCluster start() {
        return new FakeCluster();
    }

    /** The shared client (JDK HTTP transport, like production). */
    public KubernetesClient client() {
        return client;
    }

    /** A new client of its own (close it). */
    public KubernetesClient newClient() {
        return new KubernetesClientBuilder().withConfig(config()).build();
    }

    /** Client configuration pointing at this server. */
    public Config config() {
        Config c = Config.empty();
        c.setMasterUrl(server.url("/"));
        c.setNamespace("default");
        c.setHttp2Disable(true);
        c.setRequestTimeout(30_000);
        c.setConnectionTimeout(10_000);
        return c;
    }

    /** Writes a kubeconfig for this server (for a CLI process: KUBECONFIG=file). */
    public Path writeKubeconfig(Path file) {
        String url = server.url("/").replaceAll("/$", "");
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: fake
                  cluster:
                    server: %s
                contexts:
                - name: fake
                  context:
                    cluster: fake
                    user: tester
                    namespace: default
                current-context: fake
                users:
                - name: tester
                  user:
                    token: not-a-secret
                """.formatted(url);
        try {
            Files.writeString(file, yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    public String url() {
        return server.url("/");
    }

    /** Adds a Running, Ready pod with these containers (the first is the default). */
    public Pod addPod(String namespace, String name, Map<String, String> labels, String... containers) {
        return addPod(namespace, name, labels, true, containers);
    }

    public Pod addPod(String namespace, String name, Map<String, String> labels, boolean ready, String... containers) {
        if (client.namespaces().withName(namespace).get() == null) {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build()).create();
        }
        PodBuilder b = new PodBuilder().withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels).endMetadata()
                .withNewSpec().endSpec()
                .withNewStatus().withPhase(ready ? "Running" : "Pending")
                .withConditions(new PodConditionBuilder().withType("Ready").withStatus(ready ? "True" : "False")
                        .withMessage(ready ? null : "containers with unready status: [" + containers[0] + "]").build())
                .endStatus();
        for (String c : containers) {
            b.editSpec().addToContainers(new ContainerBuilder().withName(c).withImage("postgres:15").build()).endSpec();
            b.editStatus().addToContainerStatuses(new ContainerStatusBuilder().withName(c).withReady(ready)
                    .withNewState().withNewRunning().endRunning().endState().build()).endStatus();
        }
        return client.pods().inNamespace(namespace).resource(b.build()).create();
    }

    /** PATH inside one container; default: the local PostgreSQL bin directory, then this JVM's PATH. */
    public void containerPath(String namespace, String pod, String container, String path) {
        containerPath.put(namespace + "/" + pod + "/" + container, path);
    }

    /**
     * A directory holding only the basic tools a minimal image has (sh, dd, cat, mktemp, rm, sleep),
     * to use as the PATH of a container without the PostgreSQL tools.
     */
    public static String minimalPath(Path dir) {
        try {
            Files.createDirectories(dir);
            for (String tool : List.of("sh", "dd", "cat", "mktemp", "rm", "sleep", "sha256sum", "head")) {
                Path target = Stream.of("/bin", "/usr/bin").map(d -> Paths.get(d, tool)).filter(Files::isExecutable).findFirst()
                        .orElseThrow(() -> new IllegalStateException(tool + " not found"));
                Path link = dir.resolve(tool);
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, target);
                }
            }
            return dir.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Port-forwards to {@code podPort} of this pod reach 127.0.0.1:{@code localPort}. */
    public void mapPort(String namespace, String pod, int podPort, int localPort) {
        portMap.put(namespace + "/" + pod + ":" + podPort, localPort);
    }

    /** RBAC: {@code verb} on {@code resource} (e.g. "create", "pods/exec") in {@code namespace} answers 403 from now on. */
    public void deny(String verb, String resource, String namespace) {
        denied.add(verb + " " + resource + " " + namespace);
    }

    public void allowAll() {
        denied.clear();
    }

    /**
     * The next exec whose command matches closes its connection without an exit status after
     * {@code afterStdoutBytes} of output (or {@code afterStdinBytes} of input, whichever is not -1),
     * as when an API server or node drops a stream.
     */
    public void dropNextExec(Predicate<List<String>> match, long afterStdoutBytes, long afterStdinBytes) {
        faults.add(new Fault(match, afterStdoutBytes, afterStdinBytes));
    }

    /**
     * When the next exec whose command matches arrives, every port-forward connection open at that moment
     * is cut (its TCP connection to the database closed, its websocket closed with 1011), as when the API
     * server or the node drops the forwarded streams in the middle of a backup.
     */
    public void dropPortForwardsOnExec(Predicate<List<String>> match) {
        forwardCuts.add(match);
    }

    /** How many port-forward connections {@link #dropPortForwardsOnExec} cut so far. */
    public int portForwardsCut() {
        return forwardsCut.get();
    }

    /** Every exec command received, in order (the full argument list as in the URL). */
    public List<List<String>> execs() {
        return Collections.unmodifiableList(execs);
    }

    /** Every request line (method and path with query) received. */
    public List<String> requests() {
        return Collections.unmodifiableList(requests);
    }

    String pathFor(String namespace, String pod, String container) {
        return containerPath.getOrDefault(namespace + "/" + pod + "/" + container, defaultPath);
    }

    int localPort(String namespace, String pod, int port) {
        return portMap.getOrDefault(namespace + "/" + pod + ":" + port, port);
    }

    Fault takeFault(List<String> command) {
        for (Fault f : faults) {
            if (f.match().test(command) && faults.remove(f)) {
                return f;
            }
        }
        return null;
    }

    private static java.util.Optional<String> pgBin() {
        Path root = Paths.get("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return java.util.Optional.empty();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("pg_dump")))
                    .max(Comparator.comparing(p -> p.getParent().getFileName().toString(), Comparator.comparingInt(FakeCluster::num)))
                    .map(Path::toString);
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    private static int num(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static Map<String, List<String>> query(String q) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        if (q == null) {
            return m;
        }
        for (String pair : q.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return m;
    }

    @Override
    public void close() {
        client.close();
        server.destroy();
    }

    /** Routes exec and port-forward to the bridges, applies RBAC denials, sends the rest to the CRUD store. */
    private final class Dispatcher extends KubernetesMixedDispatcher {
        Dispatcher(Map<ServerRequest, Queue<ServerResponse>> responses) {
            super(responses);
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            requests.add(request.getMethod() + " " + path);
            Matcher m = API_PATH.matcher(path);
            if (m.matches()) {
                String ns = m.group(3);
                String resource = m.group(4);
                String name = m.group(5);
                String sub = m.group(6);
                Map<String, List<String>> q = query(m.group(7));
                String verb = verb(request.getMethod(), name, sub, q);
                String res = sub == null ? resource : resource + "/" + sub;
                if (denied.contains(verb + " " + res + " " + ns)) {
                    return forbidden(verb, resource, sub, m.group(1), ns, name);
                }
                if ("pods".equals(resource) && "exec".equals(sub)) {
                    List<String> command = q.getOrDefault("command", List.of());
                    execs.add(command);
                    for (Predicate<List<String>> cut : forwardCuts) {
                        if (cut.test(command) && forwardCuts.remove(cut)) {
                            for (PortForwardBridge f : forwards) {
                                if (f.cut()) {
                                    forwardsCut.incrementAndGet();
                                }
                            }
                        }
                    }
                    String container = q.getOrDefault("container", List.of("")).get(0);
                    return new MockResponse().withWebSocketUpgrade(new ExecBridge(command, pathFor(ns, name, container),
                            takeFault(command)));
                }
                if ("pods".equals(resource) && "portforward".equals(sub)) {
                    int port = Integer.parseInt(q.getOrDefault("ports", List.of("0")).get(0));
                    return new MockResponse().withWebSocketUpgrade(new PortForwardBridge(port, localPort(ns, name, port),
                            "pod " + name + " in namespace " + ns, forwards));
                }
            }
            return super.dispatch(request);
        }

        private String verb(String method, String name, String sub, Map<String, List<String>> q) {
            if (sub != null && (sub.equals("exec") || sub.equals("portforward") || sub.equals("attach"))) {
                return "create";
            }
            return switch (method) {
                case "GET" -> name == null ? (q.containsKey("watch") ? "watch" : "list") : "get";
                case "POST" -> "create";
                case "PUT" -> "update";
                case "PATCH" -> "patch";
                case "DELETE" -> "delete";
                default -> method.toLowerCase(java.util.Locale.ROOT);
            };
        }

        private MockResponse forbidden(String verb, String resource, String sub, String group, String ns, String name) {
            String res = sub == null ? resource : resource + "/" + sub;
            String message = (name == null ? res : res.split("/")[0] + " \"" + name + "\"") + " is forbidden: User "
                    + "\"system:serviceaccount:" + ns + ":backupkit\" cannot " + verb + " resource \"" + res + "\" in API group \""
                    + (group == null ? "" : group) + "\" in the namespace \"" + ns + "\"";
            String body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
                    + Serialization.asJson(message) + ",\"reason\":\"Forbidden\",\"details\":{\"name\":"
                    + Serialization.asJson(name == null ? "" : name) + ",\"kind\":\"" + resource + "\"},\"code\":403}";
            return new MockResponse().setResponseCode(403).setHeader("Content-Type", "application/json").setBody(body);
        }
    }
}
