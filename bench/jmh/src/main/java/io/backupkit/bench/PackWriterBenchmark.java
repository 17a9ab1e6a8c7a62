package io.backupkit.bench;

import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.PackWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Assembling a 32 MiB pack from 32 sealed 1 MiB blobs and finishing it (sealed trailer, SHA-256
 * pack name). One operation = one blob added, so ops/s reads as MiB/s.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class PackWriterBenchmark {
    private static final int BLOBS = 32;

    private byte[][] sealed;
    private BlobId[] ids;
    private Sealer sealer;

    @Setup
    public void setup() {
        sealer = Sealer.aesGcm(Aead.randomBytes(32));
        sealed = new byte[BLOBS][];
        ids = new BlobId[BLOBS];
        for (int i = 0; i < BLOBS; i++) {
            sealed[i] = BenchData.random(BenchData.MIB + Aead.OVERHEAD);
            ids[i] = BlobId.of(Aead.randomBytes(BlobId.BYTES));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BLOBS)
    public PackWriter.Finished writePack() {
        PackWriter w = new PackWriter(BLOBS * (BenchData.MIB + Aead.OVERHEAD) + 64 * 1024);
        for (int i = 0; i < BLOBS; i++) {
            w.add(ids[i], sealed[i], BenchData.MIB);
        }
        return w.finish(sealer);
    }
}
