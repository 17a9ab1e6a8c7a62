package io.backupkit;

import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.PausedSource;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A store stamps an object at some moment of its write, and others see it only once the write is done: a local disk
 * stamps the temporary file's last write, then fsyncs and links it. A backup that takes its lock and reads the index
 * in that window has a lock stamped after the mark, yet read an index without it. Here the window is held open at the
 * mark's link (LocalStorage's file-operation seam), with a time margin of 0.
 */
class PruneMarkWriteTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void backupThatReadTheIndexWhileTheMarkWasBeingWritten_keepsTheMarkedPacks_evenWithATimeMarginOfZero() throws Exception {
        Path root = dir.resolve("repo");
        AtomicReference<Runnable> beforeStateLink = new AtomicReference<>();
        LocalStorage storage = LocalStorage.withFileOps(root, new LocalStorage.FileOps() {
            @Override
            public void link(Path link, Path existing) throws IOException {
                Runnable hook = root.relativize(link).toString().replace('\\', '/').startsWith("index/state/")
                        ? beforeStateLink.getAndSet(null) : null;
                if (hook != null) {
                    hook.run();
                }
                Files.createLink(link, existing);
            }

            @Override
            public void fsyncDirectory(Path d) {
                // not what this test is about
            }
        });
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        try (Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB)
                .create()) {
            Supplier<InputStream> data = () -> RandomData.stream(12, 3 * MIB);
            BackupManager.builder().repository(repo).parallelism(2).source(new GeneratedSource().stream("s", data)).build().backup();
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("x", "y").build()).allowRemoveAll(true)
                    .build().forget();

            PausedSource paused = new PausedSource(data);
            AtomicReference<CompletableFuture<String>> running = new AtomicReference<>();
            AtomicBoolean startedInTheWindow = new AtomicBoolean();
            // the mark's file is written and stamped; before it is linked (visible), a backup takes its lock (stamped
            // later than the mark) and reads the index (without the mark): the blobs of the packs being marked exist
            beforeStateLink.set(() -> {
                try {
                    Thread.sleep(50); // past any file system's tick below a second
                    running.set(CompletableFuture.supplyAsync(() -> BackupManager.builder().repository(repo).parallelism(2)
                            .source(paused).build().backup().snapshotId()));
                    startedInTheWindow.set(paused.started.await(1, TimeUnit.MINUTES));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            });
            PruneResult first;
            try {
                first = PruneManager.builder().repository(repo).timeMargin(Duration.ZERO).uncommittedGrace(Duration.ZERO).build()
                        .prune();
            } finally {
                paused.release.countDown();
            }
            assertTrue(startedInTheWindow.get(), "the backup did not start while the mark was written");
            String id = running.get().get(2, TimeUnit.MINUTES);
            assertTrue(first.packsMarked() > 0, first.toString());
            assertEquals(0, first.packsDeleted(), "prune deleted packs a backup that read the index before the mark reuses: " + first);
            CheckReport check = repo.check();
            assertTrue(check.ok(), check.errors().toString());
            DigestTarget target = new DigestTarget();
            RestoreManager.builder().repository(repo).snapshot(id).target(target).build().restore();
            assertEquals(DigestTarget.digestOf(data.get()).getKey(), target.digests().get("s"));
        }
    }
}
