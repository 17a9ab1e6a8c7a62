package io.backupkit.testkit;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.ProgressEvent;
import io.backupkit.Repository;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The child JVM of kill -9 tests: runs one operation on an existing repository (opened with a key file)
 * and prints what it did, one line per event, flushed at once, so the parent can kill it at a chosen
 * point with SIGKILL.
 *
 * <pre>
 * java -cp … io.backupkit.testkit.ChildMain backup &lt;repoDir&gt; &lt;keyFile&gt; &lt;seed&gt; &lt;bytes&gt; &lt;random|dump&gt; &lt;checkpointPacks&gt;
 *   prints "stored &lt;bytes&gt;" per pack stored, then "snapshot &lt;id&gt;"
 * java -cp … io.backupkit.testkit.ChildMain prune &lt;repoDir&gt; &lt;keyFile&gt; &lt;keepLast&gt;
 *   forgets all but the newest keepLast snapshots and prunes; prints each phase, then "pruned &lt;packs deleted&gt;"
 * java -cp … io.backupkit.testkit.ChildMain hold-lock &lt;repoDir&gt; &lt;keyFile&gt;
 *   takes a shared lock, prints "locked" and waits to be killed
 * </pre>
 */
public final class ChildMain {
    private ChildMain() {
    }

    /** The stream a backup of {@code seed} writes; tests recompute it to compare restores. */
    public static Supplier<InputStream> data(String kind, long seed, long bytes) {
        return switch (kind) {
            case "random" -> () -> RandomData.stream(seed, bytes);
            case "dump" -> () -> DumpLikeData.edited(1, bytes, (int) (seed % 13) + 1, 20);
            default -> throw new IllegalArgumentException("unknown data kind " + kind);
        };
    }

    public static void main(String[] args) {
        PrintStream out = System.out;
        String op = args[0];
        Path repoDir = Path.of(args[1]);
        Path keyFile = Path.of(args[2]);
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
            switch (op) {
                case "backup" -> {
                    long seed = Long.parseLong(args[3]);
                    long bytes = Long.parseLong(args[4]);
                    String kind = args[5];
                    int checkpointPacks = Integer.parseInt(args[6]);
                    BackupResult r = BackupManager.builder().repository(repo).parallelism(2)
                            .indexCheckpoints(checkpointPacks, Duration.ofMinutes(10))
                            .tag("seed", Long.toString(seed)).tag("kind", kind).tag("bytes", Long.toString(bytes))
                            .listener(e -> {
                                if (e.kind() == ProgressEvent.Kind.PACK_STORED) {
                                    out.println("stored " + e.bytesStored());
                                    out.flush();
                                }
                            })
                            .source(new GeneratedSource().stream("data", data(kind, seed, bytes)))
                            .build().backup();
                    out.println("snapshot " + r.snapshotId());
                }
                case "prune" -> {
                    int keepLast = Integer.parseInt(args[3]);
                    io.backupkit.ForgetManager.builder().repository(repo)
                            .policy(io.backupkit.RetentionPolicy.builder().keepLast(keepLast).build()).build().forget();
                    out.println("forgot");
                    out.flush();
                    io.backupkit.PruneResult r = io.backupkit.PruneManager.builder().repository(repo).timeMargin(Duration.ZERO)
                            .uncommittedGrace(Duration.ZERO).progress(line -> {
                                out.println("prune " + line);
                                out.flush();
                            }).build().prune();
                    out.println("pruned " + r.packsDeleted());
                }
                case "hold-lock" -> {
                    // holds a shared lock until killed
                    io.backupkit.internal.repo.LockManager.Lock lock = ((io.backupkit.internal.repo.DefaultRepository) repo).locks()
                            .acquire(false, "hold-lock");
                    out.println("locked");
                    out.flush();
                    try {
                        Thread.sleep(Long.MAX_VALUE);
                    } catch (InterruptedException e) {
                        lock.close();
                    }
                }
                default -> throw new IllegalArgumentException("unknown operation " + op);
            }
            out.flush();
        }
    }
}
