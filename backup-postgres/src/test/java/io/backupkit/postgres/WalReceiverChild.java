package io.backupkit.postgres;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A WalReceiver in its own JVM, so tests can kill it with SIGKILL:
 * {@code WalReceiverChild REPO_DIR KEY_FILE JDBC_URL USER SLOT PARTIAL_MILLIS} with the password in
 * $PGPASSWORD. Prints "started" once streaming, then runs until killed.
 */
public final class WalReceiverChild {
    private WalReceiverChild() {
    }

    public static void main(String[] args) throws Exception {
        Repository repo = Repository.builder().storage(LocalStorage.of(Path.of(args[0]))).keyFile(Path.of(args[1])).open();
        WalReceiver r = WalReceiver.builder().repository(repo).url(args[2]).user(args[3])
                .password(System.getenv("PGPASSWORD").toCharArray()).slot(args[4]).createSlot(true)
                .partialInterval(Duration.ofMillis(Long.parseLong(args[5]))).statusInterval(Duration.ofSeconds(1))
                .reconnectDelay(Duration.ofMillis(200), Duration.ofSeconds(2)).build().start();
        System.out.println("started");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
        r.close();
    }

    /** Starts the child JVM; its output goes to {@code log}. Waits until it streams. */
    static Process start(Path repoDir, Path keyFile, String url, String user, String password, String slot, long partialMillis, Path log)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                String.join(java.io.File.pathSeparator, ServerUser.realClasspath().stream().map(Path::toString).toList()),
                WalReceiverChild.class.getName(), repoDir.toString(), keyFile.toString(), url, user, slot, Long.toString(partialMillis)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("PGPASSWORD", password);
        Process p = pb.start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (java.nio.file.Files.readString(log).contains("started")) {
                return p;
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("the receiver child died: " + java.nio.file.Files.readString(log));
            }
            Thread.sleep(50);
        }
        p.destroyForcibly();
        throw new IllegalStateException("the receiver child did not start: " + java.nio.file.Files.readString(log));
    }
}
