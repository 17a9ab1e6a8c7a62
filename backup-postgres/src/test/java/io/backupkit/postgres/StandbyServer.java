package io.backupkit.postgres;

import io.backupkit.postgres.testing.EphemeralPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A hot standby of an {@link EphemeralPostgres}: {@code pg_basebackup -R} of the primary into its
 * work directory, started on another free port. Test code only; stopped (not deleted: the primary's
 * close removes the directory) by {@link #close()}.
 */
final class StandbyServer implements AutoCloseable {
    private final EphemeralPostgres primary;
    private final Path dataDirectory;
    private final int port;

    private StandbyServer(EphemeralPostgres primary, Path dataDirectory, int port) {
        this.primary = primary;
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    static StandbyServer of(EphemeralPostgres primary) {
        Path dir = primary.workDirectory().resolve("standby");
        Path bin = primary.binDirectory().orElseThrow();
        run(List.of(bin.resolve("pg_basebackup").toString(), "-h", primary.host(), "-p", Integer.toString(primary.port()),
                "-U", primary.user(), "-D", dir.toString(), "-R", "-c", "fast", "-X", "stream", "--no-password"), primary.password());
        int port = freePort();
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.toString(), "-l", primary.workDirectory().resolve("standby.log").toString(),
                "-o", "-p " + port, "-w", "-t", "120", "start"), null);
        return new StandbyServer(primary, dir, port);
    }

    int port() {
        return port;
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://" + primary.host() + ":" + port + "/" + database;
    }

    /** Waits until the standby has replayed everything the primary wrote so far. */
    void awaitReplay() throws Exception {
        String lsn = primary.queryForString("postgres", "SELECT pg_current_wal_lsn()::text");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", primary.user());
        p.setProperty("password", primary.password());
        while (true) {
            try (var c = java.sql.DriverManager.getConnection(jdbcUrl("postgres"), p); var st = c.createStatement();
                 var rs = st.executeQuery("SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the standby did not replay up to " + lsn + " within 2 minutes");
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        Path bin = primary.binDirectory().orElseThrow();
        try {
            run(List.of(bin.resolve("pg_ctl").toString(), "-D", dataDirectory.toString(), "-m", "fast", "-w", "stop"), null);
        } catch (RuntimeException e) {
            // best effort: the primary's close removes the directory
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a server tool as the postgres OS user when this JVM is root, as EphemeralPostgres does. */
    private static void run(List<String> command, String password) {
        List<String> full = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        if (password != null) {
            pb.environment().put("PGPASSWORD", password);
        }
        pb.environment().put("LC_ALL", "C");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
