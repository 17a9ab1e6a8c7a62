package io.backupkit.k8s;

import io.backupkit.k8s.testing.FakeCluster;
import io.backupkit.spi.JobLock;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two electors (two replicas of a service) and one Lease, against the mock API server. */
class KubernetesLeaseJobLockIT {
    private static final Duration TTL = Duration.ofSeconds(6);
    private static FakeCluster k8s;
    private static KubernetesClient clientA;
    private static KubernetesClient clientB;

    @BeforeAll
    static void cluster() {
        k8s = FakeCluster.start();
        k8s.addPod("shop", "placeholder", Map.of(), "c");
        clientA = k8s.newClient();
        clientB = k8s.newClient();
    }

    @AfterAll
    static void stop() {
        clientA.close();
        clientB.close();
        k8s.close();
    }

    @BeforeEach
    void reset() {
        k8s.allowAll();
    }

    private static KubernetesLeaseJobLock lock(KubernetesClient c, String id) {
        return KubernetesLeaseJobLock.builder().client(c).namespace("shop").identity(id).build();
    }

    @Test
    void onlyOneHolder_andClosingHandsOver() {
        KubernetesLeaseJobLock a = lock(clientA, "replica-a");
        KubernetesLeaseJobLock b = lock(clientB, "replica-b");
        JobLock.Lease held = a.tryAcquire("nightly-shop", TTL).orElseThrow();
        assertTrue(held.isHeld());
        Lease lease = k8s.client().leases().inNamespace("shop").withName("backupkit-nightly-shop").get();
        assertEquals("replica-a", lease.getSpec().getHolderIdentity());
        assertEquals(6, lease.getSpec().getLeaseDurationSeconds());

        assertTrue(b.tryAcquire("nightly-shop", TTL).isEmpty(), "the other replica does not get it while it is held");
        assertTrue(held.isHeld());
        assertTrue(b.tryAcquire("weekly-shop", TTL).map(l -> {
            l.close();
            return true;
        }).orElse(false), "another job's lock is independent");

        held.close();
        assertFalse(held.isHeld());
        try (JobLock.Lease next = b.tryAcquire("nightly-shop", TTL).orElseThrow()) {
            assertTrue(next.isHeld());
            assertEquals("replica-b", k8s.client().leases().inNamespace("shop").withName("backupkit-nightly-shop").get()
                    .getSpec().getHolderIdentity());
            assertTrue(a.tryAcquire("nightly-shop", TTL).isEmpty());
        }
    }

    @Test
    void holderThatCannotRenew_stopsBeforeTheOtherReplicaTakesOver() throws Exception {
        KubernetesLeaseJobLock a = lock(clientA, "replica-a");
        KubernetesLeaseJobLock b = lock(clientB, "replica-b");
        JobLock.Lease held = a.tryAcquire("compaction", TTL).orElseThrow();
        // renewals of the holder start failing (as when the API server is unreachable or permissions changed)
        k8s.deny("patch", "leases", "shop");
        long lostAt = await(() -> !held.isHeld(), Duration.ofSeconds(30));
        k8s.allowAll();
        Optional<JobLock.Lease> taken = Optional.empty();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (taken.isEmpty() && System.nanoTime() < deadline) {
            taken = b.tryAcquire("compaction", TTL);
            if (taken.isEmpty()) {
                Thread.sleep(200);
            }
        }
        long takenAt = System.nanoTime();
        assertTrue(taken.isPresent(), "the other replica takes over once the lease expired");
        assertTrue(lostAt < takenAt, "the old holder saw isHeld() == false before the new one got the lease");
        assertFalse(held.isHeld(), "and it stays lost");
        taken.get().close();
        held.close();
    }

    @Test
    void leaseTakenByAnother_isSeenByTheOldHolder() throws Exception {
        KubernetesLeaseJobLock a = lock(clientA, "replica-a");
        JobLock.Lease held = a.tryAcquire("report", TTL).orElseThrow();
        // another process overwrites the Lease (retrying, like any writer, when the holder's renewal got in between)
        for (int attempt = 0; ; attempt++) {
            Lease lease = k8s.client().leases().inNamespace("shop").withName("backupkit-report").get();
            lease.getSpec().setHolderIdentity("someone-else");
            lease.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
            try {
                k8s.client().leases().inNamespace("shop").resource(lease).update();
                break;
            } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                if (e.getCode() != 409 || attempt > 20) {
                    throw e;
                }
            }
        }
        await(() -> !held.isHeld(), Duration.ofSeconds(30));
        assertEquals("someone-else", k8s.client().leases().inNamespace("shop").withName("backupkit-report").get()
                .getSpec().getHolderIdentity(), "the old holder does not take it back, nor release someone else's lease");
        held.close();
    }

    @Test
    void leaseNames_areValidAndDistinct() {
        assertEquals("backupkit-nightly-shop", KubernetesLeaseJobLock.leaseName("nightly-shop"));
        String a = KubernetesLeaseJobLock.leaseName("Nightly Shop");
        String b = KubernetesLeaseJobLock.leaseName("nightly shop");
        assertNotEquals(a, b);
        assertTrue(a.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"), a);
        assertTrue(KubernetesLeaseJobLock.leaseName("x".repeat(400)).length() <= 253);
    }

    @Test
    void rbacDenied_namesVerbAndResource() {
        k8s.deny("get", "leases", "shop");
        KubernetesAccessDeniedException e = assertThrows(KubernetesAccessDeniedException.class,
                () -> lock(clientA, "replica-a").tryAcquire("denied", TTL));
        assertEquals("leases", e.resource());
        assertEquals("get", e.verb());
        k8s.allowAll();
        k8s.deny("create", "leases", "shop");
        KubernetesAccessDeniedException c = assertThrows(KubernetesAccessDeniedException.class,
                () -> lock(clientA, "replica-a").tryAcquire("denied", TTL));
        assertEquals("create", c.verb());
    }

    private static long await(BooleanSupplier condition, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + limit);
            }
            Thread.sleep(50);
        }
        return System.nanoTime();
    }
}
