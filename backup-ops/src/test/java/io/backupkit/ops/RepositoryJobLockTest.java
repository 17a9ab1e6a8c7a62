package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.spi.JobLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repository-backed job lock: one holder at a time, release, expiry, and a holder that loses it. */
class RepositoryJobLockTest {
    @TempDir
    Path dir;

    @Test
    void oneHolderAtATimeAndReleaseFreesIt() {
        try (Repository a = OpsFixtures.repository(dir); Repository b = OpsFixtures.repository(dir)) {
            JobLock la = new RepositoryJobLock(a);
            JobLock lb = new RepositoryJobLock(b);
            Optional<JobLock.Lease> first = la.tryAcquire("nightly", Duration.ofMinutes(1));
            assertTrue(first.isPresent());
            assertTrue(first.get().isHeld());
            assertTrue(lb.tryAcquire("nightly", Duration.ofMinutes(1)).isEmpty(), "held by the other replica");
            assertTrue(lb.tryAcquire("other-job", Duration.ofMinutes(1)).isPresent(), "locks are per job");
            assertTrue(new RepositoryJobLock(b).holder("nightly").isPresent());
            first.get().close();
            assertFalse(first.get().isHeld());
            Optional<JobLock.Lease> second = lb.tryAcquire("nightly", Duration.ofMinutes(1));
            assertTrue(second.isPresent(), "free after release");
            second.get().close();
        }
    }

    @Test
    void anExpiredLeaseIsTakenOverAndItsHolderLearnsItLostIt() throws Exception {
        try (Repository a = OpsFixtures.repository(dir); Repository b = OpsFixtures.repository(dir)) {
            JobLock.Lease old = new RepositoryJobLock(a).tryAcquire("nightly", Duration.ofSeconds(3)).orElseThrow();
            // a replica whose clock is ahead (or that comes later) sees the lease expired
            Clock later = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5));
            JobLock.Lease taken = new RepositoryJobLock(b, later).tryAcquire("nightly", Duration.ofMinutes(10)).orElseThrow();
            assertTrue(taken.isHeld());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (old.isHeld() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertFalse(old.isHeld(), "the old holder must stop before its next write");
            old.close();
            assertTrue(taken.isHeld(), "closing a lost lease does not release the new holder's");
            assertTrue(new RepositoryJobLock(a).tryAcquire("nightly", Duration.ofMinutes(1)).isEmpty());
            taken.close();
        }
    }

    @Test
    void manyContendersAtOnceGetExactlyOneLease() throws Exception {
        try (Repository repo = OpsFixtures.repository(dir)) {
            for (int round = 0; round < 5; round++) {
                CountDownLatch go = new CountDownLatch(1);
                AtomicInteger winners = new AtomicInteger();
                List<JobLock.Lease> leases = java.util.Collections.synchronizedList(new ArrayList<>());
                List<Thread> threads = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    Thread t = new Thread(() -> {
                        try {
                            go.await();
                            new RepositoryJobLock(repo).tryAcquire("contended", Duration.ofMinutes(1)).ifPresent(l -> {
                                winners.incrementAndGet();
                                leases.add(l);
                            });
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    t.start();
                    threads.add(t);
                }
                go.countDown();
                for (Thread t : threads) {
                    t.join(60_000);
                }
                assertEquals(1, winners.get(), "round " + round);
                leases.forEach(JobLock.Lease::close);
            }
        }
    }

    @Test
    void aLeaseRecordThatVanishesBetweenListAndReadIsLookedUpAgain() throws Exception {
        Path key = io.backupkit.KeyProviders.generateKeyFile(dir.resolve("k"));
        io.backupkit.LocalStorage disk = io.backupkit.LocalStorage.of(dir.resolve("r"));
        java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Repository> other = new java.util.concurrent.atomic.AtomicReference<>();
        // right after the contender lists the lease records, the holder renews twice: the listed newest record is gone
        io.backupkit.spi.Storage racing = new ListHookStorage(disk, prefix -> {
            if (prefix.endsWith("/lease/") && other.get() != null && once.compareAndSet(false, true)) {
                Repository.Records r = other.get().records();
                List<String> names = r.list(prefix.substring("records/".length()));
                String newest = names.stream().max(String::compareTo).orElseThrow();
                long seq = Long.parseLong(newest.substring(newest.lastIndexOf('/') + 1));
                r.create(newest.substring(0, newest.lastIndexOf('/') + 1) + String.format("%020d", seq + 1),
                        io.backupkit.ops.internal.OpsJson.write(new RepositoryJobLock.LeaseRecord("h", "other", 1, "held",
                                java.time.Instant.now().plusSeconds(60))));
                r.delete(newest);
            }
        });
        try (Repository holderRepo = Repository.builder().storage(disk).keyProvider(io.backupkit.KeyProviders.keyFile(key)).create();
             Repository contenderRepo = Repository.builder().storage(racing).keyProvider(io.backupkit.KeyProviders.keyFile(key)).open()) {
            JobLock.Lease held = new RepositoryJobLock(holderRepo).tryAcquire("nightly", Duration.ofMinutes(1)).orElseThrow();
            other.set(holderRepo);
            assertTrue(new RepositoryJobLock(contenderRepo).tryAcquire("nightly", Duration.ofMinutes(1)).isEmpty(),
                    "still held by the other process, and no error");
            assertTrue(once.get(), "the race was staged");
            held.close();
        }
    }

    /** Runs a hook after each listing, to stage races between list and read. */
    private static final class ListHookStorage implements io.backupkit.spi.Storage {
        private final io.backupkit.spi.Storage d;
        private final java.util.function.Consumer<String> afterList;

        ListHookStorage(io.backupkit.spi.Storage d, java.util.function.Consumer<String> afterList) {
            this.d = d;
            this.afterList = afterList;
        }

        public String location() {
            return d.location();
        }

        public boolean putIfAbsent(String name, io.backupkit.spi.Payload payload) {
            return d.putIfAbsent(name, payload);
        }

        public java.io.InputStream get(String name) {
            return d.get(name);
        }

        public java.io.InputStream get(String name, long offset, long length) {
            return d.get(name, offset, length);
        }

        public Optional<io.backupkit.spi.ObjectInfo> stat(String name) {
            return d.stat(name);
        }

        public List<io.backupkit.spi.ObjectInfo> list(String prefix) {
            List<io.backupkit.spi.ObjectInfo> r = d.list(prefix);
            afterList.accept(prefix);
            return r;
        }

        public void delete(String name) {
            d.delete(name);
        }

        public void close() {
        }
    }

    @Test
    void oldLeaseRecordsAreRemoved() {
        try (Repository repo = OpsFixtures.repository(dir)) {
            for (int i = 0; i < 10; i++) {
                new RepositoryJobLock(repo).tryAcquire("nightly", Duration.ofMinutes(1)).orElseThrow().close();
            }
            assertTrue(repo.records().list("ops/nightly/lease/").size() <= 2, repo.records().list("ops/nightly/lease/").toString());
        }
    }
}
