package io.backupkit.postgres.internal.physical;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.internal.FileTrees;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.spi.RestoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * COMPREHENSIVE verification of a physical snapshot: unpack it into a scratch directory, start a
 * throwaway server on it (as the server's OS user, on a free port, reachable only through a socket in
 * the scratch directory with trust authentication), let crash recovery replay the WAL inside the
 * snapshot until it is consistent, compare the system identifier, run {@code pg_amcheck} on every
 * database, stop the server and remove the directory. Nothing is archived and no repository key is
 * needed by the server: it never leaves the WAL the snapshot carries.
 */
public final class PhysicalVerification {
    private static final Logger LOG = LoggerFactory.getLogger(PhysicalVerification.class);
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+)");
    private final Path parent;
    private final RestoreOptions o;

    public PhysicalVerification(Path parent, RestoreOptions options) {
        this.parent = parent;
        this.o = options;
    }

    public List<VerificationCheck> verify(RestoreContext ctx) {
        PhysicalMetadata meta = PhysicalMetadata.of(ctx.snapshot());
        List<VerificationCheck> checks = new ArrayList<>();
        if (!meta.walIncluded()) {
            checks.add(VerificationCheck.skipped("restore", "the snapshot does not carry the WAL to make it consistent"));
            return checks;
        }
        Path bin;
        try {
            bin = serverBinaries(meta.majorVersion());
        } catch (BackupException e) {
            checks.add(VerificationCheck.failed("restore", e.getMessage()));
            return checks;
        }
        String osUser = "root".equals(System.getProperty("user.name")) ? (o.osUser() != null ? o.osUser() : "postgres") : null;
        Path scratch = null;
        Path sockets = null;
        Server server = null;
        try {
            scratch = Files.createTempDirectory(parent, "backupkit-verify-");
            UserPrincipal owner = osUser == null ? null : scratch.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
            Files.setPosixFilePermissions(scratch, TarExtractor.permissions(0700));
            if (owner != null) {
                Files.setOwner(scratch, owner);
            }
            Path pgdata = scratch.resolve("data");
            Map<String, Path> mappings = new LinkedHashMap<>();
            for (ClusterInfo.Tablespace t : meta.tablespaces()) {
                mappings.put(Long.toString(t.oid()), scratch.resolve("tablespace-" + t.oid()));
            }
            RestoreLayout layout = new RestoreLayout(pgdata, meta.tablespaces(), mappings);
            long t0 = System.nanoTime();
            SnapshotUnpacker.Unpacked unpacked = unpack(ctx, layout, owner);
            Files.deleteIfExists(pgdata.resolve("tablespace_map"));
            Files.deleteIfExists(pgdata.resolve("recovery.signal"));
            Files.deleteIfExists(pgdata.resolve("standby.signal"));
            Files.deleteIfExists(pgdata.resolve("postmaster.pid"));
            Path conf = pgdata.resolve("postgresql.conf");
            if (!Files.exists(conf)) {
                // clusters whose configuration lives elsewhere (Debian's /etc/postgresql) carry none
                Files.writeString(conf, "# written by backupkit verification\n");
                ownFile(conf, owner);
            }
            Path hba = scratch.resolve("backupkit_hba.conf");
            Files.writeString(hba, "local all all trust\n");
            ownFile(hba, owner);
            checks.add(VerificationCheck.passed("physical restore", unpacked.files() + " files, " + unpacked.bytes() + " bytes unpacked into a "
                    + "scratch directory in " + ms(t0) + " ms"));
            // a Unix socket path has at most 107 bytes: the socket lives in a short directory of its own
            sockets = Files.createTempDirectory(Files.isDirectory(Path.of("/tmp")) ? Path.of("/tmp") : parent, "bkv");
            Files.setPosixFilePermissions(sockets, TarExtractor.permissions(0700));
            if (owner != null) {
                Files.setOwner(sockets, owner);
            }
            server = new Server(bin, scratch, sockets, pgdata, hba, osUser);
            long t1 = System.nanoTime();
            String startError = server.start();
            if (startError != null) {
                checks.add(VerificationCheck.failed("server start", "the restored copy did not start: " + startError));
                return checks;
            }
            String recovery = server.query(meta.superuser(), "postgres", "SELECT pg_is_in_recovery()");
            String lsn = server.query(meta.superuser(), "postgres", "SELECT pg_current_wal_lsn()");
            if (!"f".equals(recovery)) {
                checks.add(VerificationCheck.failed("consistency", "the restored copy is still in recovery"));
                return checks;
            }
            checks.add(VerificationCheck.passed("consistency", "crash recovery replayed the snapshot's WAL from " + meta.startLsn()
                    + " past its end " + meta.stopLsn() + " (now at " + lsn + ") in " + ms(t1) + " ms"));
            String sysid = server.query(meta.superuser(), "postgres", "SELECT system_identifier FROM pg_control_system()");
            checks.add(meta.systemIdentifier().equals(sysid)
                    ? VerificationCheck.passed("system identifier", sysid + " as recorded")
                    : VerificationCheck.failed("system identifier", "restored copy has " + sysid + ", the snapshot records " + meta.systemIdentifier()));
            String dbs = server.query(meta.superuser(), "postgres", "SELECT string_agg(datname, ', ' ORDER BY datname) FROM pg_database "
                    + "WHERE datallowconn");
            long t2 = System.nanoTime();
            ToolRunner.Result amcheck = server.run(bin.resolve("pg_amcheck").toString(), "--all", "--install-missing", "--no-password",
                    "-h", server.sockets.toString(), "-p", Integer.toString(server.port), "-U", meta.superuser());
            if (amcheck.exitCode() == 0) {
                checks.add(VerificationCheck.passed("amcheck", "pg_amcheck found no corruption in tables and B-tree indexes of " + dbs
                        + " (" + ms(t2) + " ms)"));
            } else {
                String out = (amcheck.stdout() + "\n" + amcheck.stderr()).strip();
                checks.add(VerificationCheck.failed("amcheck", (amcheck.exitCode() == 2 ? "pg_amcheck reports corruption: "
                        : "pg_amcheck failed (exit code " + amcheck.exitCode() + "): ") + tail(out, 2000)));
            }
            return checks;
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) {
                // the caller stopped the verification (a FileChannel closes itself on interrupt): no verdict
                throw new EngineException("verification interrupted: " + e.getMessage(), e);
            }
            checks.add(VerificationCheck.failed("restore", "restoring into a scratch directory failed: " + e.getMessage()));
            return checks;
        } catch (BackupException e) {
            if (Thread.currentThread().isInterrupted()) {
                throw e;
            }
            checks.add(VerificationCheck.failed("restore", e.getMessage()));
            return checks;
        } finally {
            if (server != null) {
                server.stop();
            }
            if (scratch != null) {
                FileTrees.deleteQuietly(scratch);
            }
            if (sockets != null) {
                FileTrees.deleteQuietly(sockets);
            }
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static String tail(String s, int n) {
        return s.length() <= n ? s : "…" + s.substring(s.length() - n);
    }

    private static void ownFile(Path p, UserPrincipal owner) throws IOException {
        Files.setPosixFilePermissions(p, TarExtractor.permissions(0600));
        if (owner != null) {
            Files.setOwner(p, owner);
        }
    }

    private static SnapshotUnpacker.Unpacked unpack(RestoreContext ctx, RestoreLayout layout, UserPrincipal owner) throws IOException {
        List<Path> dirs = new ArrayList<>(List.of(layout.pgdata()));
        dirs.addAll(layout.tablespaceDirs().values());
        for (Path dir : dirs) {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, TarExtractor.permissions(0700));
            if (owner != null) {
                Files.setOwner(dir, owner);
            }
        }
        return SnapshotUnpacker.unpack(ctx, layout, owner);
    }

    /** The server binaries of {@code major}: the configured directory, else /usr/lib/postgresql/N/bin or /usr/pgsql-N/bin. */
    private Path serverBinaries(int major) {
        List<Path> candidates = new ArrayList<>();
        if (o.toolDirectory() != null) {
            candidates.add(o.toolDirectory());
        }
        candidates.add(Paths.get("/usr/lib/postgresql/" + major + "/bin"));
        candidates.add(Paths.get("/usr/pgsql-" + major + "/bin"));
        ToolRunner.findLocalToolDirectory().ifPresent(candidates::add);
        for (Path c : candidates) {
            if (Files.isExecutable(c.resolve("postgres")) && Files.isExecutable(c.resolve("pg_ctl"))
                    && Files.isExecutable(c.resolve("pg_amcheck")) && majorOf(c) == major) {
                return c;
            }
        }
        throw new io.backupkit.ConfigurationException("no PostgreSQL " + major + " server binaries (postgres, pg_ctl, pg_amcheck) found "
                + "to start a throwaway copy of the snapshot (looked in " + candidates + "); install postgresql-" + major
                + " or give toolDirectory(...)");
    }

    private static int majorOf(Path bin) {
        try {
            Process p = new ProcessBuilder(bin.resolve("postgres").toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            Matcher m = VERSION.matcher(out);
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The throwaway server. */
    private static final class Server {
        private final Path bin;
        private final Path scratch;
        private final Path sockets;
        private final Path pgdata;
        private final Path hba;
        private final String osUser;
        private int port;
        private boolean started;

        Server(Path bin, Path scratch, Path sockets, Path pgdata, Path hba, String osUser) {
            this.bin = bin;
            this.scratch = scratch;
            this.sockets = sockets;
            this.pgdata = pgdata;
            this.hba = hba;
            this.osUser = osUser;
        }

        /** Starts; returns null, or why it did not start (with the server log's tail). */
        String start() {
            String last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                port = freePort();
                String opts = "-p " + port + " -c listen_addresses='' -c unix_socket_directories='" + sockets + "' -c hba_file='" + hba
                        + "' -c archive_mode=off -c shared_preload_libraries='' -c logging_collector=off";
                ToolRunner.Result r = run(bin.resolve("pg_ctl").toString(), "-D", pgdata.toString(), "-l", scratch.resolve("server.log").toString(),
                        "-o", opts, "-w", "-t", "3600", "start");
                if (r.exitCode() == 0) {
                    started = true;
                    return null;
                }
                last = "pg_ctl exit code " + r.exitCode() + ": " + tail(r.stderr(), 500) + "; server log: " + logTail();
                if (!logTail().contains("could not bind") && !logTail().contains("Address already in use")) {
                    break;
                }
            }
            return last;
        }

        String query(String user, String db, String sql) {
            ToolRunner.Result r = run(bin.resolve("psql").toString(), "-X", "-A", "-t", "-q", "-w", "-h", sockets.toString(), "-p",
                    Integer.toString(port), "-U", user, "-d", db, "-c", sql);
            if (r.exitCode() != 0) {
                throw new io.backupkit.EngineException("query on the restored copy failed: " + sql, r.exitCode(), r.stderr(), null);
            }
            return r.stdout().strip();
        }

        void stop() {
            if (started) {
                run(bin.resolve("pg_ctl").toString(), "-D", pgdata.toString(), "-m", "immediate", "-w", "-t", "60", "stop");
                started = false;
            }
        }

        private String logTail() {
            try {
                String log = Files.readString(scratch.resolve("server.log"));
                return tail(log, 1500);
            } catch (IOException e) {
                return "(no log)";
            }
        }

        ToolRunner.Result run(String... command) {
            List<String> cmd = new ArrayList<>();
            if (osUser != null) {
                cmd.addAll(List.of("runuser", "-u", osUser, "--"));
            }
            cmd.addAll(List.of(command));
            try {
                Process p = new ProcessBuilder(cmd).directory(scratch.toFile()).start();
                p.getOutputStream().close();
                CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
                    try {
                        return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        return "";
                    }
                });
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(2, TimeUnit.HOURS)) {
                    p.destroyForcibly();
                    return new ToolRunner.Result(-1, out, "timed out");
                }
                return new ToolRunner.Result(p.exitValue(), out, err.join());
            } catch (IOException e) {
                return new ToolRunner.Result(-1, "", "cannot run " + command[0] + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new ToolRunner.Result(-1, "", "interrupted");
            }
        }

        private static int freePort() {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                return s.getLocalPort();
            } catch (IOException e) {
                throw new io.backupkit.EngineException("no free port", e);
            }
        }
    }
}
