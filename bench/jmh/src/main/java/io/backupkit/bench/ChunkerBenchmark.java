package io.backupkit.bench;

import io.backupkit.internal.chunker.FastCdcChunker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * FastCDC cut-point search with the repository's default parameters (128 KiB / 512 KiB / 2 MiB).
 * One operation = 1 MiB of input, so the score in ops/s reads as MiB/s on one core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class ChunkerBenchmark {
    private static final int INPUT_MIB = 32;

    @Param({"dumplike", "random"})
    public String data;

    private byte[] input;
    private FastCdcChunker chunker;

    @Setup
    public void setup() {
        input = BenchData.of(data, INPUT_MIB * BenchData.MIB);
        chunker = new FastCdcChunker(FastCdcChunker.DEFAULT_MIN, FastCdcChunker.DEFAULT_AVG, FastCdcChunker.DEFAULT_MAX, FastCdcChunker.DEFAULT_NORMALIZATION, 0);
    }

    @Benchmark
    @OperationsPerInvocation(INPUT_MIB)
    public int chunk() {
        int off = 0;
        int chunks = 0;
        while (off < input.length) {
            off += chunker.cut(input, off, input.length - off);
            chunks++;
        }
        return chunks;
    }

    /**
     * The incremental scanner the pipeline uses (cut points found while 256 KiB writes arrive, the size
     * of a COPY reader's buffer): the same cuts as {@link #chunk}, without re-reading a buffered window.
     */
    @Benchmark
    @OperationsPerInvocation(INPUT_MIB)
    public int scan() {
        FastCdcChunker.Scanner scanner = chunker.scanner();
        int piece = 256 * 1024;
        int chunks = 0;
        for (int off = 0; off < input.length; off += piece) {
            int o = off;
            int len = Math.min(piece, input.length - off);
            int cut;
            while (len > 0 && (cut = scanner.scan(input, o, len)) > 0) {
                chunks++;
                o += cut;
                len -= cut;
            }
        }
        return chunks;
    }
}
