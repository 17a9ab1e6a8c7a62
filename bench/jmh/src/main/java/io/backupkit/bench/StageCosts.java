package io.backupkit.bench;

import io.backupkit.BackupManager;
import io.backupkit.Codecs;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.SnapshotStream;
import io.backupkit.internal.chunker.ChunkPool;
import io.backupkit.internal.chunker.ChunkingOutputStream;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.postgres.internal.CopyStreams;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import javax.crypto.Mac;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Where every nanosecond per byte goes: the CPU time of each stage of the backup and restore data
 * path, per input byte, measured with thread CPU time (so it holds on a loaded machine, unlike
 * wall-clock throughput), warm (after {@code --warmup} rounds), median of {@code --reps} rounds.
 * Then the whole pipeline in process (all threads, including JIT and GC: process CPU time).
 *
 * <pre>
 * java -cp bench/jmh/target/benchmarks.jar io.backupkit.bench.StageCosts --data pgbench --mib 256
 * java -cp bench/jmh/target/benchmarks.jar io.backupkit.bench.StageCosts --input accounts.copy
 * </pre>
 * {@code --data} pgbench | mixed | dumplike | random (generated), or {@code --input FILE} (e.g. the
 * output of {@code psql -c "\copy pgbench_accounts to FILE"}). docs/performance.md ("Issue 12") shows its output.
 */
public final class StageCosts {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final int PIECE = 256 * 1024;
    private static long sink;

    private StageCosts() {
    }

    public static void main(String[] args) throws Exception {
        String kind = "pgbench";
        Path input = null;
        int mib = 256;
        int reps = 5;
        int warmup = 2;
        String compression = "zstd:1"; // the default of new repositories (Codecs.defaultCodec())
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> kind = args[++i];
                case "--input" -> input = Path.of(args[++i]);
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--compression" -> compression = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--data KIND | --input FILE, --mib N, --reps N, --warmup N, --compression SPEC)");
            }
        }
        byte[] data = input != null ? Files.readAllBytes(input) : BenchData.of(kind, mib << 20);
        String what = input != null ? input.getFileName().toString() : kind;
        new StageCosts().run(data, what, reps, warmup, Codecs.byName(compression));
    }

    private final Map<String, List<Double>> results = new LinkedHashMap<>();
    private final Map<String, String> notes = new LinkedHashMap<>();

    private void run(byte[] data, String what, int reps, int warmup, CompressionCodec codec) throws Exception {
        FastCdcChunker chunker = new FastCdcChunker(FastCdcChunker.DEFAULT_MIN, FastCdcChunker.DEFAULT_AVG, FastCdcChunker.DEFAULT_MAX, FastCdcChunker.DEFAULT_NORMALIZATION, 42);
        List<int[]> chunks = new ArrayList<>();
        for (int off = 0; off < data.length; ) {
            int n = chunker.cut(data, off, data.length - off);
            chunks.add(new int[] {off, n});
            off += n;
        }
        byte[] key = new byte[32];
        Sealer sealer = Sealer.aesGcm(key);
        Mac mac = Hashes.hmac(key);
        byte[] payload = new byte[1 + chunker.max() + (chunker.max() >> 6) + 1024];
        List<byte[]> sealed = new ArrayList<>();
        long compressedBytes = 0;
        for (int[] c : chunks) {
            int n = codec.compress(data, c[0], c[1], payload, 1);
            payload[0] = (byte) codec.id();
            compressedBytes += n;
            sealed.add(sealer.seal(payload, 0, n + 1, key));
        }
        System.out.printf("input %s: %d bytes, %d chunks (avg %d), %s ratio %.1f%n", what, data.length, chunks.size(),
                data.length / Math.max(1, chunks.size()), codec, (double) data.length / compressedBytes);
        for (int r = 0; r < warmup + reps; r++) {
            boolean keep = r >= warmup;
            stage(keep, "COPY row count (CopyStreams.Counter)", data.length, () -> {
                CopyStreams.Counter counter = new CopyStreams.Counter();
                for (int off = 0; off < data.length; off += PIECE) {
                    counter.update(data, off, Math.min(PIECE, data.length - off));
                }
                return counter.openRows();
            });
            stage(keep, "chunking: FastCDC scan + copy into pooled chunks", data.length, () -> {
                ChunkPool pool = new ChunkPool(chunker.max(), 4);
                long[] n = {0};
                try (ChunkingOutputStream out = new ChunkingOutputStream(chunker, pool, c -> {
                    n[0] += c.length();
                    c.release();
                })) {
                    for (int off = 0; off < data.length; off += PIECE) {
                        out.write(data, off, Math.min(PIECE, data.length - off));
                    }
                }
                return n[0];
            });
            stage(keep, "SHA-256 of each chunk (v2: the only pass)", data.length, () -> {
                MessageDigest md = Hashes.sha256();
                long x = 0;
                for (int[] c : chunks) {
                    md.update(data, c[0], c[1]);
                    x += md.digest()[0];
                }
                return x;
            });
            stage(keep, "v1 only: HMAC-SHA256 of each chunk (blob id)", data.length, () -> {
                long x = 0;
                for (int[] c : chunks) {
                    mac.update(data, c[0], c[1]);
                    x += mac.doFinal()[0];
                }
                return x;
            });
            stage(keep, "compress " + codec + " into a reused buffer", data.length, () -> {
                long x = 0;
                for (int[] c : chunks) {
                    x += codec.compress(data, c[0], c[1], payload, 1);
                }
                return x;
            });
            stage(keep, "AES-256-GCM seal of the compressed blobs", data.length, () -> {
                long x = 0;
                byte[] out = new byte[payload.length + 64];
                for (byte[] s : sealed) {
                    x += sealer.seal(s, 0, s.length - 28, key, out, 0);
                }
                return x;
            });
            stage(keep, "pack: append sealed blobs, SHA-256 names the pack", data.length, () -> {
                PackWriter pack = new PackWriter(16 * 1024 * 1024 + 5 * 1024 * 1024);
                long x = 0;
                int i = 0;
                for (byte[] s : sealed) {
                    pack.add(BlobId.of(Hashes.sha256(s, 0, 32)), s, 0, s.length, chunks.get(i++)[1]);
                    if (pack.size() >= 16 * 1024 * 1024) {
                        x += pack.finish(sealer).length();
                        pack = new PackWriter(16 * 1024 * 1024 + 5 * 1024 * 1024);
                    }
                }
                return x + pack.finish(sealer).length();
            });
            stage(keep, "restore: AES-GCM open + decompress + SHA-256", data.length, () -> {
                long x = 0;
                int i = 0;
                MessageDigest md = Hashes.sha256();
                for (byte[] s : sealed) {
                    byte[] plain = sealer.open(s, 0, s.length, key).orElseThrow();
                    byte[] raw = Codecs.byId(plain[0] & 0xff).decompress(plain, 1, plain.length - 1, chunks.get(i++)[1]);
                    md.update(raw);
                    x += md.digest()[0];
                }
                return x;
            });
            stage(keep, "restore: split COPY segments (CopyStreams.SegmentReader)", data.length, () -> {
                byte[] withMarker = Arrays.copyOf(data, data.length + 3);
                int end = data.length;
                while (end > 0 && withMarker[end - 1] != '\n') {
                    end--;
                }
                System.arraycopy(new byte[] {'\\', '.', '\n'}, 0, withMarker, end, 3);
                CopyStreams.SegmentReader reader = new CopyStreams.SegmentReader(new ByteArrayInputStream(withMarker, 0, end + 3), "s");
                return reader.nextSegment().transferTo(OutputStream.nullOutputStream());
            });
        }
        pipeline(data, reps, warmup, codec);
        report(what, data.length);
    }

    private interface Stage {
        long run() throws Exception;
    }

    private void stage(boolean keep, String name, long bytes, Stage s) throws Exception {
        long t0 = THREADS.getCurrentThreadCpuTime();
        sink += s.run();
        long t = THREADS.getCurrentThreadCpuTime() - t0;
        if (keep) {
            results.computeIfAbsent(name, k -> new ArrayList<>()).add((double) t / bytes);
        }
    }

    /** The whole backup and restore in process, two streams like --jobs 2: process CPU time, all threads. */
    private void pipeline(byte[] data, int reps, int warmup, CompressionCodec codec) throws Exception {
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        LongSupplier cpu = os::getProcessCpuTime;
        int half = data.length / 2;
        for (int r = 0; r < warmup + reps; r++) {
            Path dir = Files.createTempDirectory("backupkit-stages-");
            try (Repository repo = Repository.builder().storage(LocalStorage.of(dir))
                    .keyProvider(KeyProviders.password("bench".toCharArray(), 19 * 1024, 2, 1)).compression(codec).create()) {
                long c0 = cpu.getAsLong();
                BackupManager.builder().repository(repo).source(new TwoStreams(data, half)).parallelism(2).build().backup();
                long c1 = cpu.getAsLong();
                RestoreManager.builder().repository(repo).snapshot("latest").target(new Discard()).parallelism(2).build().restore();
                long c2 = cpu.getAsLong();
                if (r >= warmup) {
                    results.computeIfAbsent("WHOLE BACKUP, in process (all threads, 2 streams, parallelism 2)", k -> new ArrayList<>())
                            .add((double) (c1 - c0) / data.length);
                    results.computeIfAbsent("WHOLE RESTORE, in process (all threads)", k -> new ArrayList<>())
                            .add((double) (c2 - c1) / data.length);
                }
            } finally {
                try (Stream<Path> s = Files.walk(dir)) {
                    s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private void report(String what, long bytes) {
        System.out.printf("%n| stage (%s, %d MiB, thread CPU per input byte, median) | ns/B | MB/s per core |%n|---|---:|---:|%n",
                what, bytes >> 20);
        for (Map.Entry<String, List<Double>> e : results.entrySet()) {
            List<Double> v = new ArrayList<>(e.getValue());
            v.sort(Double::compare);
            double median = v.get(v.size() / 2);
            System.out.printf("| %s | %.3f | %.0f |%n", e.getKey(), median, 1000 / median);
        }
        System.out.println("(" + sink + ")");
    }

    private record TwoStreams(byte[] data, int half) implements BackupSource {
        @Override
        public String engine() {
            return "stages";
        }

        @Override
        public String describe() {
            return "two streams";
        }

        @Override
        public void backup(BackupContext context) {
            List<Thread> ts = new ArrayList<>();
            RuntimeException[] failure = new RuntimeException[1];
            for (int s = 0; s < 2; s++) {
                int from = s == 0 ? 0 : half;
                int to = s == 0 ? half : data.length;
                String name = "data-000" + (s + 1);
                Thread t = new Thread(() -> {
                    try (OutputStream out = context.newStream(name)) {
                        for (int off = from; off < to; off += PIECE) {
                            out.write(data, off, Math.min(PIECE, to - off));
                        }
                    } catch (IOException | RuntimeException e) {
                        failure[0] = e instanceof RuntimeException re ? re : new UncheckedIOException((IOException) e);
                    }
                });
                t.start();
                ts.add(t);
            }
            for (Thread t : ts) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            if (failure[0] != null) {
                throw failure[0];
            }
        }
    }

    private static final class Discard implements RestoreTarget {
        @Override
        public String engine() {
            return "stages";
        }

        @Override
        public String describe() {
            return "nowhere";
        }

        @Override
        public RestorePlan plan(RestoreContext context) {
            return new RestorePlan(describe(), List.of(), 0);
        }

        @Override
        public void restore(RestoreContext context) {
            context.snapshot().streams().parallelStream().forEach(s -> {
                try (InputStream in = context.openStream(s.name())) {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
