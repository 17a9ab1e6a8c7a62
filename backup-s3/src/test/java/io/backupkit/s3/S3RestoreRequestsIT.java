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

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                // the shared lock: check, write, then side by side the storage's time of it (clock skew) and a second check
                "ListObjectsV2 locks/", "PutObject locks/", "HeadObject locks/", "ListObjectsV2 locks/",
                // the pack index
                "ListObjectsV2 index/", "GetObject index/"), before);
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
                assertEquals(List.of("ListObjectsV2 locks/", "PutObject locks/", "HeadObject locks/", "ListObjectsV2 locks/"),
                        sideBySide(rec.sent().stream().map(S3RestoreRequestsIT::describe).toList()));
                assertEquals("*", rec.sent("PutObject").get(0).header("if-none-match").orElseThrow(),
                        "the write still carries If-None-Match");
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
     * Pairs sent side by side in the order of their names, as their order on the wire is the network's: open's
     * config read and key slot listing; after the lock's write, its time (HEAD) and the second check (LIST).
     */
    private static List<String> sideBySide(List<String> sent) {
        List<String> out = new ArrayList<>(sent);
        for (List<String> pair : List.of(List.of("GetObject config", "ListObjectsV2 keys/"),
                List.of("HeadObject locks/", "ListObjectsV2 locks/"))) {
            for (int i = 0; i + 1 < out.size(); i++) {
                if (!out.get(i).equals(out.get(i + 1)) && pair.containsAll(out.subList(i, i + 2))
                        && (pair.get(0).startsWith("GetObject") || i > 0 && out.get(i - 1).equals("PutObject locks/"))) {
                    out.subList(i, i + 2).sort(null);
                }
            }
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
