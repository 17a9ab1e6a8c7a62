package io.backupkit.s3;

import io.backupkit.spi.Payload;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;

/**
 * Measures S3Storage against the raw SDK on the same S3Proxy (in-process, loopback): upload and
 * download MB/s of pack-sized objects, and S3 requests per GiB written. Not a test; run with
 *
 * <pre>
 * java -cp backup-s3/target/test-classes:backup-s3/target/classes:$(cat cp.txt) io.backupkit.s3.S3ThroughputBench [objects] [objectMiB]
 * </pre>
 *
 * Each figure is the best of several rounds after a warm-up round (JIT, connection pool); the rounds
 * interleave the configurations, so noise from other processes on the machine counts against neither side.
 */
public final class S3ThroughputBench {
    private S3ThroughputBench() {
    }

    public static void main(String[] args) throws Exception {
        int objects = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int objectMiB = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int size = objectMiB << 20;
        byte[][] data = new byte[objects][];
        Random random = new Random(1);
        for (int i = 0; i < objects; i++) {
            data[i] = new byte[size];
            random.nextBytes(data[i]);
        }
        double mib = (double) objects * size / (1 << 20);
        try (S3ProxyFixture s3 = new S3ProxyFixture().start()) {
            System.out.printf("%d objects x %d MiB = %.0f MiB per round, S3Proxy transient store on %s%n%n",
                    objects, objectMiB, mib, s3.endpoint());
            System.out.printf("%-48s %10s %10s%n", "configuration", "up MB/s", "down MB/s");
            // rounds interleave the three configurations, so load from other processes hits all alike
            double[] raw = new double[2];
            double[] ours16 = new double[2];
            double[] ours5 = new double[2];
            int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 5;
            for (int round = 0; round < rounds; round++) {
                boolean warmUp = round == 0;
                best(raw, rawSdk(s3, data, mib), warmUp);
                best(ours16, storage(s3, data, mib, 16L << 20, 4), warmUp);
                best(ours5, storage(s3, data, mib, 5L << 20, 4), warmUp);
            }
            print("raw SDK putObject/getObject (1 request each)", raw, null);
            print("S3Storage part 16 MiB (one PutObject per object)", ours16, raw);
            print("S3Storage part 5 MiB, 4 parts in flight", ours5, raw);
            RecordingInterceptor rec = new RecordingInterceptor();
            try (S3Storage storage = s3.storage(s3.newBucket()).executionInterceptor(rec).build()) {
                for (int i = 0; i < objects; i++) {
                    storage.putIfAbsent("data/" + String.format("%02x", i) + "/count-" + i, Payload.of(data[i]));
                }
            }
            double gib = (double) objects * size / (1L << 30);
            System.out.printf("%nrequests per GiB of %d MiB packs (default settings): %.1f (%d requests for %.2f GiB)%n",
                    objectMiB, rec.requestCount() / gib, rec.requestCount(), gib);
            repositoryBackup(s3, args.length > 2 ? Integer.parseInt(args[2]) : 256);
        }
    }

    /** A whole repository backup of generated streams: requests per GiB as the repository really writes. */
    private static void repositoryBackup(S3ProxyFixture s3, int mib) {
        try {
            io.backupkit.Repository.builder();
        } catch (IllegalStateException notYet) {
            System.out.println("repository backup: backup-core repository not implemented yet, skipped");
            return;
        }
        GeneratedStreams streams = new GeneratedStreams().stream("big", (long) mib << 20, 11).stream("small", 3L << 20, 12);
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = s3.storage(s3.newBucket()).executionInterceptor(rec).build();
             io.backupkit.Repository repo = io.backupkit.Repository.builder().storage(storage).password("bench".toCharArray())
                     .compression("none").create()) {
            rec.clear();
            long t0 = System.nanoTime();
            io.backupkit.BackupResult r = io.backupkit.BackupManager.builder().repository(repo).source(streams.source()).build().backup();
            long t1 = System.nanoTime();
            int backupRequests = rec.requestCount();
            System.out.println("backup requests by operation: " + byOperation(rec));
            rec.clear();
            long t2 = System.nanoTime();
            io.backupkit.RestoreManager.builder().repository(repo).target(streams.target()).build().restore();
            long t3 = System.nanoTime();
            double gib = streams.totalBytes() / (double) (1L << 30);
            System.out.printf("repository backup of %.0f MiB generated (compression none): %d requests = %.1f per GiB read,"
                            + " %.1f per GiB stored; backup %.0f MB/s, restore %.0f MB/s (%d requests)%n",
                    streams.totalBytes() / 1048576.0, backupRequests, backupRequests / gib,
                    backupRequests / (r.bytesStored() / (double) (1L << 30)),
                    streams.totalBytes() / 1e6 / ((t1 - t0) / 1e9), streams.totalBytes() / 1e6 / ((t3 - t2) / 1e9), rec.requestCount());
            System.out.println("restore requests by operation: " + byOperation(rec));
        }
    }

    private static java.util.Map<String, Long> byOperation(RecordingInterceptor rec) {
        java.util.Map<String, Long> counts = new java.util.TreeMap<>();
        for (RecordingInterceptor.Sent s : rec.sent()) {
            String what = s.operation() + " " + s.path().replaceFirst("^/[^/]+/", "").replaceFirst("/.*", "/");
            counts.merge(what, 1L, Long::sum);
        }
        return counts;
    }

    private static void print(String name, double[] r, double[] raw) {
        if (raw == null) {
            System.out.printf("%-48s %10.0f %10.0f%n", name, r[0], r[1]);
        } else {
            System.out.printf("%-48s %10.0f %10.0f   (%.0f%% / %.0f%% of raw)%n", name, r[0], r[1], 100 * r[0] / raw[0], 100 * r[1] / raw[1]);
        }
    }

    private static void best(double[] best, double[] round, boolean warmUp) {
        if (!warmUp) {
            best[0] = Math.max(best[0], round[0]);
            best[1] = Math.max(best[1], round[1]);
        }
    }

    private static double[] rawSdk(S3ProxyFixture s3, byte[][] data, double mib) throws Exception {
        S3Client client = s3.client();
        String bucket = s3.newBucket();
        long t0 = System.nanoTime();
        for (int i = 0; i < data.length; i++) {
            String key = "data/" + i;
            client.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(data[i]));
        }
        long t1 = System.nanoTime();
        for (int i = 0; i < data.length; i++) {
            String key = "data/" + i;
            try (InputStream in = client.getObject(r -> r.bucket(bucket).key(key))) {
                in.transferTo(OutputStream.nullOutputStream());
            }
        }
        long t2 = System.nanoTime();
        deleteBucket(client, bucket);
        return new double[]{mbps(mib, t1 - t0), mbps(mib, t2 - t1)};
    }

    private static double[] storage(S3ProxyFixture s3, byte[][] data, double mib, long partSize, int concurrency) throws Exception {
        String bucket = s3.newBucket();
        double[] result;
        try (S3Storage storage = s3.storage(bucket).partSize(partSize).maxConcurrency(concurrency).build()) {
            long t0 = System.nanoTime();
            for (int i = 0; i < data.length; i++) {
                storage.putIfAbsent("data/" + i, Payload.of(data[i]));
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < data.length; i++) {
                try (InputStream in = storage.get("data/" + i)) {
                    in.transferTo(OutputStream.nullOutputStream());
                }
            }
            long t2 = System.nanoTime();
            result = new double[]{mbps(mib, t1 - t0), mbps(mib, t2 - t1)};
        }
        deleteBucket(s3.client(), bucket);
        return result;
    }

    private static void deleteBucket(S3Client client, String bucket) {
        client.listObjectsV2Paginator(r -> r.bucket(bucket)).contents()
                .forEach(o -> client.deleteObject(r -> r.bucket(bucket).key(o.key())));
        client.deleteBucket(r -> r.bucket(bucket));
    }

    private static double mbps(double mib, long nanos) {
        return mib * 1.048576 / (nanos / 1e9);
    }
}
