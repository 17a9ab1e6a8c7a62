package io.backupkit.s3;

import io.backupkit.BackupManager;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Snapshot;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.KeyProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The requests a restore from S3 sends before its first data read, counted on S3Proxy: each is a round
 * trip, and on loopback they are most of what a small restore from S3 costs more than one from a local
 * repository (issue 12, target 6; docs/performance.md "s3seq"). A fresh {@link S3Storage} per restore,
 * as every CLI call has.
 */
class S3RestoreRequestsIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    /** The OWASP floor for Argon2id: the key slot is read all the same, the derivation is cheap. */
    private static final KeyProvider PASSWORD = KeyProviders.password("correct horse".toCharArray(), 19 * 1024, 2, 1);

    @Test
    void restoreOfTheLatestSnapshot_sendsTheseRequestsBeforeItsFirstDataRead_andNoProbe() {
        String bucket = S3.newBucket();
        GeneratedStreams streams = new GeneratedStreams().stream("table", 3L << 20, 11).stream("schema", 4_321, 12);
        String id;
        try (S3Storage storage = S3.storage(bucket).build();
             Repository repo = Repository.builder().storage(storage).keyProvider(PASSWORD).create()) {
            id = BackupManager.builder().repository(repo).source(streams.source()).build().backup().snapshotId();
        }

        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(bucket).executionInterceptor(rec).build();
             Repository repo = Repository.builder().storage(storage).keyProvider(PASSWORD).open()) {
            // as the CLI's restore does: resolve (here "latest"), show the snapshot, restore its full id
            Snapshot latest = repo.snapshots().get("latest");
            assertEquals(id, latest.id());
            RestoreManager.builder().repository(repo).snapshot(latest.id()).target(streams.target()).build().restore();
        }
        assertEquals(Map.of("table", 3L << 20, "schema", 4_321L), streams.restored());

        List<String> before = beforeFirstDataRead(rec);
        System.out.println("restore from S3, requests before the first data read: " + before.size() + " " + before
                + "; probe: " + rec.probes().size());
        assertEquals(List.of(), rec.probes().stream().map(S3RestoreRequestsIT::describe).toList(),
                "a lock object's name is 128 random bits: its write needs no conditional-write probe");
        assertEquals(List.of(
                // open: the config and the key slots (sent side by side), then the slot
                "GetObject config", "ListObjectsV2 keys/", "GetObject keys/",
                // "latest": the snapshots and their manifests
                "ListObjectsV2 snapshots/", "GetObject snapshots/",
                // the restore of the id just resolved: no second listing of it
                // the shared lock: check, write, then side by side a second check (its listing also gives the storage's
                // time of the lock object: no HEAD) and the pack index (its listing, then its object)
                "ListObjectsV2 locks/", "PutObject locks/",
                "GetObject index/", "ListObjectsV2 index/", "ListObjectsV2 locks/"), before);
        List<String> sent = rec.sent().stream().map(S3RestoreRequestsIT::describe).toList();
        assertTrue(sent.indexOf("PutObject locks/") < sent.indexOf("ListObjectsV2 index/"),
                "the index is read only once the lock object is written, where a prune sees it: " + sent);
    }

    @Test
    void sharedLock_isOneWriteWithTheCondition_andNoProbe() {
        String bucket = S3.newBucket();
        try (S3Storage storage = S3.storage(bucket).build();
             Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
            assertTrue(repo.snapshots().list().isEmpty());
        }
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(bucket).executionInterceptor(rec).build();
             Repository repo = Repository.builder().storage(storage).unencrypted().open()) {
            rec.clear();
            try (LockManager.Lock lock = ((DefaultRepository) repo).locks().acquire(false, "verify")) {
                assertEquals(List.of("ListObjectsV2 locks/", "PutObject locks/", "ListObjectsV2 locks/"),
                        sideBySide(rec.sent().stream().map(S3RestoreRequestsIT::describe).toList()));
                assertEquals("*", rec.sent("PutObject").get(0).header("if-none-match").orElseThrow(),
                        "the write still carries If-None-Match");
                assertNotNull(lock.info().createdStorage(), "the storage's time of the lock object, from the second check's listing");
                assertNotNull(lock.info().clockSkewMillis());
                assertEquals(List.of(), rec.probes());
            }
            assertEquals(0, storage.list("locks/").size(), "released");
        }
    }

    /** The requests up to the first read of a pack, as "operation kind/"; the probe's are not among them. */
    private static List<String> beforeFirstDataRead(RecordingInterceptor rec) {
        List<String> out = new ArrayList<>();
        for (RecordingInterceptor.Sent s : rec.sent()) {
            String d = describe(s);
            if (d.equals("GetObject data/")) {
                return sideBySide(out);
            }
            out.add(d);
        }
        throw new AssertionError("no data read among " + rec.sent().stream().map(S3RestoreRequestsIT::describe).toList());
    }

    /**
     * Requests sent side by side in the order of their names, as their order on the wire is the network's: open's
     * config read and key slot listing; after the lock's write, the second check (LIST) and, for a restore, the index
     * (its LIST, then its GET).
     */
    private static List<String> sideBySide(List<String> sent) {
        List<String> out = new ArrayList<>(sent);
        for (int i = 0; i + 1 < out.size(); i++) {
            if (Set.of("GetObject config", "ListObjectsV2 keys/").equals(Set.copyOf(out.subList(i, i + 2)))) {
                out.subList(i, i + 2).sort(null);
            }
        }
        int put = out.indexOf("PutObject locks/");
        if (put >= 0) {
            Set<String> besideTheLock = Set.of("ListObjectsV2 locks/", "ListObjectsV2 index/", "GetObject index/");
            int end = put + 1;
            while (end < out.size() && besideTheLock.contains(out.get(end))) {
                end++;
            }
            out.subList(put + 1, end).sort(null);
        }
        return out;
    }

    /** "GetObject config", "ListObjectsV2 locks/": the operation and the top-level kind of object it names. */
    static String describe(RecordingInterceptor.Sent s) {
        String name = s.query("prefix").orElseGet(() -> s.path().replaceFirst("^/[^/]+/?", ""));
        int slash = name.indexOf('/');
        return s.operation() + " " + (slash < 0 ? name : name.substring(0, slash + 1));
    }
}
