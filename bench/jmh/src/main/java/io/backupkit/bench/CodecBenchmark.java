package io.backupkit.bench;

import io.backupkit.Codecs;
import io.backupkit.spi.CompressionCodec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Compressing and decompressing one 1 MiB blob (the average chunk) of dump-like text. Score in
 * ops/s = MiB/s on one core; the ratio is printed once at setup.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class CodecBenchmark {
    @Param({"zstd:1", "zstd:3", "lz4", "gzip"})
    public String codec;

    @Param({"dumplike"})
    public String data;

    private CompressionCodec c;
    private byte[] plain;
    private byte[] packed;

    @Setup
    public void setup() {
        c = Codecs.byName(codec);
        plain = BenchData.of(data, BenchData.MIB);
        packed = c.compress(plain, 0, plain.length);
        System.out.printf("%n%s on %s: %d -> %d bytes (%.2fx)%n", codec, data, plain.length, packed.length,
                (double) plain.length / packed.length);
    }

    @Benchmark
    public byte[] compress() {
        return c.compress(plain, 0, plain.length);
    }

    @Benchmark
    public byte[] decompress() {
        return c.decompress(packed, 0, packed.length, plain.length);
    }
}
