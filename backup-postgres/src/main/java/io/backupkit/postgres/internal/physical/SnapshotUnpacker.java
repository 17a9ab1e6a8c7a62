package io.backupkit.postgres.internal.physical;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.SnapshotStream;
import io.backupkit.spi.RestoreContext;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Unpacks the tar streams of a physical snapshot where a {@link RestoreLayout} puts them, up to
 * {@link RestoreContext#parallelism()} streams at once on threads of its own. Not with a bare
 * {@code supplyAsync}: that blocks the shared common pool with reads and writes on machines with three or
 * more cores, and starts a thread per stream, whatever the parallelism, on machines with fewer. Used by
 * the restore and by verification's throwaway copy. Returns only when every stream has finished, so a
 * caller that cleans up after a failure never races an extractor still writing.
 */
final class SnapshotUnpacker {
    /** What was unpacked, over all streams. */
    record Unpacked(long files, long bytes) {
    }

    private SnapshotUnpacker() {
    }

    static Unpacked unpack(RestoreContext ctx, RestoreLayout layout, UserPrincipal owner) {
        List<SnapshotStream> streams = ctx.snapshot().streams().stream().filter(st -> layout.destination(st.name()) != null).toList();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(ctx.parallelism(), streams.size())), r -> {
            Thread t = new Thread(r, "backupkit-unpack");
            t.setDaemon(true);
            return t;
        });
        try {
            List<CompletableFuture<Unpacked>> running = new ArrayList<>();
            for (SnapshotStream st : streams) {
                Path dest = layout.destination(st.name());
                running.add(CompletableFuture.supplyAsync(() -> {
                    try (InputStream in = ctx.openStream(st.name())) {
                        TarExtractor x = new TarExtractor(dest, layout::linkTarget, owner, null);
                        x.extract(in, "stream " + st.name());
                        return new Unpacked(x.files(), x.bytes());
                    } catch (IOException e) {
                        throw new EngineException("reading stream " + st.name() + " failed: " + e.getMessage(), e);
                    }
                }, pool));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
            long files = 0;
            long bytes = 0;
            for (CompletableFuture<Unpacked> f : running) {
                files += f.join().files();
                bytes += f.join().bytes();
            }
            return new Unpacked(files, bytes);
        } catch (CompletionException e) {
            if (e.getCause() instanceof BackupException b) {
                throw b;
            }
            throw new EngineException("unpacking the snapshot failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }
}
