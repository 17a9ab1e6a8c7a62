package io.backupkit.bench;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.backupkit.Codecs;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.spi.CompressionCodec;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * "Pick codec levels by measured throughput" (issue 12): for each zstd level (negative "fast" levels
 * included, which the repository does not accept yet) and lz4, the thread CPU time per input byte to
 * compress and to decompress the chunks a new repository would cut (FastCDC 128 KiB / 512 KiB / 2 MiB),
 * and the ratio, counting a chunk that does not shrink as stored raw (codec 0), as the backup does.
 * Thread CPU, warm, median of {@code --reps}: it holds on a loaded machine.
 *
 * <pre>
 * java -cp bench/jmh/target/benchmarks.jar io.backupkit.bench.CodecLevels --input events.copy --input accounts.copy
 * java -cp bench/jmh/target/benchmarks.jar io.backupkit.bench.CodecLevels --data mixed --mib 128
 * </pre>
 */
public final class CodecLevels {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static long sink;

    private CodecLevels() {
    }

    public static void main(String[] args) throws Exception {
        List<Path> inputs = new ArrayList<>();
        List<String> kinds = new ArrayList<>();
        int mib = 128;
        int reps = 5;
        int warmup = 2;
        String levels = "-7,-5,-3,-1,1,2,3,4,6";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--input" -> inputs.add(Path.of(args[++i]));
                case "--data" -> kinds.add(args[++i]);
                case "--mib" -> mib = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--levels" -> levels = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--input FILE | --data KIND (repeatable), --mib N (cap per input), --reps N, --warmup N, --levels L,L,...)");
            }
        }
        if (inputs.isEmpty() && kinds.isEmpty()) {
            kinds.add("mixed");
            kinds.add("pgbench");
        }
        int[] lv = Arrays.stream(levels.split(",")).mapToInt(s -> Integer.parseInt(s.strip())).toArray();
        for (Path p : inputs) {
            byte[] all = Files.readAllBytes(p);
            run(p.getFileName().toString(), Arrays.copyOf(all, Math.min(all.length, mib << 20)), lv, reps, warmup);
        }
        for (String k : kinds) {
            run(k, BenchData.of(k, mib << 20), lv, reps, warmup);
        }
        System.out.println("(" + sink + ")");
    }

    private static void run(String what, byte[] data, int[] levels, int reps, int warmup) {
        FastCdcChunker chunker = new FastCdcChunker(FastCdcChunker.DEFAULT_MIN, FastCdcChunker.DEFAULT_AVG, FastCdcChunker.DEFAULT_MAX, FastCdcChunker.DEFAULT_NORMALIZATION, 42);
        List<int[]> chunks = new ArrayList<>();
        for (int off = 0; off < data.length; ) {
            int n = chunker.cut(data, off, data.length - off);
            chunks.add(new int[] {off, n});
            off += n;
        }
        byte[] dst = new byte[(int) Zstd.compressBound(chunker.max()) + 1024];
        byte[] back = new byte[chunker.max()];
        System.out.printf("%n%s: %d bytes, %d chunks (avg %d); thread CPU per input byte, median of %d after %d warm-up%n",
                what, data.length, chunks.size(), data.length / Math.max(1, chunks.size()), reps, warmup);
        System.out.printf("| codec | compress ns/B | MB/s per core | ratio | stored MiB | raw chunks | decompress ns/B |%n"
                + "|---|---:|---:|---:|---:|---:|---:|%n");
        for (int level : levels) {
            try (ZstdCompressCtx cctx = new ZstdCompressCtx(); ZstdDecompressCtx dctx = new ZstdDecompressCtx()) {
                cctx.setLevel(level);
                measure("zstd:" + level, data, chunks, dst, back, reps, warmup, new Codec() {
                    @Override
                    public int compress(int off, int len) {
                        return cctx.compressByteArray(dst, 0, dst.length, data, off, len);
                    }

                    @Override
                    public int decompress(byte[] frame, int len) {
                        return dctx.decompressByteArray(back, 0, len, frame, 0, frame.length);
                    }
                });
            }
        }
        CompressionCodec lz4 = Codecs.byName("lz4");
        measure("lz4", data, chunks, dst, back, reps, warmup, new Codec() {
            @Override
            public int compress(int off, int len) {
                return lz4.compress(data, off, len, dst, 0);
            }

            @Override
            public int decompress(byte[] frame, int len) {
                return lz4.decompress(frame, 0, frame.length, len).length;
            }
        });
    }

    /** One codec: compresses into {@code dst} (a negative size or one not smaller: stored raw), decompresses a frame. */
    private interface Codec {
        int compress(int off, int len);

        int decompress(byte[] frame, int len);
    }

    /** Stores every chunk once (for the ratio and the frames), then times compressing and decompressing them all. */
    private static void measure(String name, byte[] data, List<int[]> chunks, byte[] dst, byte[] back, int reps, int warmup, Codec codec) {
        List<byte[]> frames = new ArrayList<>();
        long stored = 0;
        int raw = 0;
        for (int[] c : chunks) {
            int n = codec.compress(c[0], c[1]);
            if (n < 0 || n >= c[1]) {
                raw++;
                stored += c[1];
                frames.add(null);
            } else {
                stored += n;
                frames.add(Arrays.copyOf(dst, n));
            }
        }
        double[] comp = new double[reps];
        double[] dec = new double[reps];
        for (int r = 0; r < warmup + reps; r++) {
            long t0 = THREADS.getCurrentThreadCpuTime();
            for (int[] c : chunks) {
                sink += codec.compress(c[0], c[1]);
            }
            long t1 = THREADS.getCurrentThreadCpuTime();
            int i = 0;
            for (byte[] f : frames) {
                int len = chunks.get(i++)[1];
                if (f == null) {
                    // a raw chunk is copied out as a restore would
                    System.arraycopy(data, 0, back, 0, len);
                    sink += len;
                } else {
                    sink += codec.decompress(f, len);
                }
            }
            long t2 = THREADS.getCurrentThreadCpuTime();
            if (r >= warmup) {
                comp[r - warmup] = (double) (t1 - t0) / data.length;
                dec[r - warmup] = (double) (t2 - t1) / data.length;
            }
        }
        row(name, comp, dec, data.length, stored, raw, chunks.size());
    }

    private static void row(String name, double[] comp, double[] dec, long bytes, long stored, int raw, int chunks) {
        double c = median(comp);
        System.out.printf("| %s | %.2f | %.0f | %.2f | %.1f | %d of %d | %.2f |%n", name, c, 1000 / c,
                (double) bytes / stored, stored / 1048576.0, raw, chunks, median(dec));
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
