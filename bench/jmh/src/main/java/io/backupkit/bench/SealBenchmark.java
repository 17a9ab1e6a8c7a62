package io.backupkit.bench;

import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import javax.crypto.Mac;
import java.util.concurrent.TimeUnit;

/**
 * The per-blob cryptography on 1 MiB blobs: the blob id (HMAC-SHA256), the stream digest (SHA-256),
 * AES-256-GCM sealing and opening, and the checksum-only sealer of unencrypted repositories.
 * Score in ops/s = MiB/s on one core.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class SealBenchmark {
    private byte[] plain;
    private byte[] ad;
    private Sealer aes;
    private Sealer checksum;
    private byte[] sealed;
    private Mac hmac;

    @Setup
    public void setup() {
        plain = BenchData.random(BenchData.MIB);
        ad = Aead.randomBytes(32);
        aes = Sealer.aesGcm(Aead.randomBytes(32));
        checksum = Sealer.checksumOnly();
        sealed = aes.seal(plain, ad);
        hmac = Hashes.hmac(Aead.randomBytes(32));
    }

    @Benchmark
    public byte[] aesGcmSeal() {
        return aes.seal(plain, ad);
    }

    @Benchmark
    public byte[] aesGcmOpen() {
        return aes.open(sealed, ad).orElseThrow();
    }

    @Benchmark
    public byte[] checksumSeal() {
        return checksum.seal(plain, ad);
    }

    @Benchmark
    public byte[] blobIdHmacSha256() {
        hmac.update(plain);
        return hmac.doFinal();
    }

    @Benchmark
    public byte[] sha256() {
        return Hashes.sha256(plain, 0, plain.length);
    }
}
