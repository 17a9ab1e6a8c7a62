package io.backupkit.bench;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Codecs;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The whole backup pipeline (chunk, id, dedup lookup, compress, seal, pack, store to local disk) on a
 * generated dump-like stream into a fresh encrypted repository, in a 256 MiB heap. Score: seconds per
 * backup of {@code mib} MiB; MB/s is printed per iteration. {@code bench/pipeline.sh} runs the 1 GiB
 * figure for issue 2 in a child JVM with peak heap.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx256m"})
public class PipelineBenchmark {
    @Param({"256"})
    public int mib;

    @Param({"2"})
    public int parallelism;

    @Param({"zstd:1"})
    public String compression;

    private Path dir;

    @Setup(Level.Iteration)
    public void newRepository() throws IOException {
        dir = Files.createTempDirectory("backupkit-jmh-");
    }

    @TearDown(Level.Iteration)
    public void deleteRepository() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    @Benchmark
    public BackupResult backup() {
        long bytes = (long) mib << 20;
        // cheap Argon2 parameters: the key derivation is not what this measures
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("bench".toCharArray(), 19 * 1024, 2, 1))
                .compression(Codecs.byName(compression)).create()) {
            BackupResult r = BackupManager.builder().repository(repo).parallelism(parallelism)
                    .source(new GeneratedSource().stream("dump", () -> DumpLikeData.stream(1, bytes)))
                    .build().backup();
            System.out.printf("%n%d MiB in %.2f s = %.1f MB/s, stored %d bytes%n", mib,
                    r.duration().toNanos() / 1e9, r.bytesRead() / 1e6 / (r.duration().toNanos() / 1e9), r.bytesStored());
            return r;
        }
    }
}
