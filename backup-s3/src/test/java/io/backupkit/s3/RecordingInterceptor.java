package io.backupkit.s3;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.SdkHttpRequest;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Records what {@link S3Storage} sends: every HTTP request as transmitted (after signing, so with all
 * headers), and how many calls of each operation were in flight at once.
 */
public final class RecordingInterceptor implements ExecutionInterceptor {

    /** One HTTP request: operation ("PutObject"), path, headers (lower-case names) and query parameters. */
    public record Sent(String operation, String method, String path, Map<String, String> headers, Map<String, String> query) {
        public Optional<String> header(String name) {
            return Optional.ofNullable(headers.get(name.toLowerCase(java.util.Locale.ROOT)));
        }

        /** A query parameter ("prefix" of a listing), unencoded. */
        public Optional<String> query(String name) {
            return Optional.ofNullable(query.get(name));
        }
    }

    private final List<Sent> sent = new CopyOnWriteArrayList<>();
    private final List<Sent> probes = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> peak = new ConcurrentHashMap<>();

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        String op = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        int now = inFlight.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
        peak.computeIfAbsent(op, k -> new AtomicInteger()).accumulateAndGet(now, Math::max);
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        inFlight.get(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME)).decrementAndGet();
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        AtomicInteger n = inFlight.get(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
        if (n != null) {
            n.decrementAndGet();
        }
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
        SdkHttpRequest r = context.httpRequest();
        Map<String, String> headers = new TreeMap<>();
        r.headers().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
        Map<String, String> query = new TreeMap<>();
        r.rawQueryParameters().forEach((k, v) -> query.put(k, String.join(",", v)));
        Sent s = new Sent(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME), r.method().name(),
                r.encodedPath(), headers, query);
        // the storage's one-time conditional-write probe is kept apart, so counts reflect the operations under test
        (r.encodedPath().contains("/" + S3Storage.PROBE_PREFIX) ? probes : sent).add(s);
    }

    /** Requests of the conditional-write probe (PutObject twice, then DeleteObject, once per storage). */
    public List<Sent> probes() {
        return List.copyOf(probes);
    }

    /** Requests sent, without those of the conditional-write probe. */
    public List<Sent> sent() {
        return List.copyOf(sent);
    }

    public List<Sent> sent(String operation) {
        return sent.stream().filter(s -> s.operation().equals(operation)).toList();
    }

    /** HTTP requests sent so far (retries count separately). */
    public int requestCount() {
        return sent.size();
    }

    /** Most calls of {@code operation} in flight at the same time. */
    public int peakInFlight(String operation) {
        AtomicInteger p = peak.get(operation);
        return p == null ? 0 : p.get();
    }

    public void clear() {
        sent.clear();
        probes.clear();
        peak.clear();
    }
}
