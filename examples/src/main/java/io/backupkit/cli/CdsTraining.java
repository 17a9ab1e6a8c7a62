package io.backupkit.cli;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.SnapshotStream;
import io.backupkit.VerificationCheck;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training run the build records a class-data-sharing archive from ({@code examples/target/backupkit.jsa},
 * used by the {@code backupkit} launcher): the classes a CLI call loads are then mapped from the
 * archive, already parsed and verified, instead of being read from the 50 MB jar and verified on
 * every start. It exercises what every call touches (picocli with every command's help, Jackson,
 * key derivation, repository open) and the backup and restore pipeline, in a scratch directory, the classes of a
 * PostgreSQL backup and restore ({@code trainPostgres}), and
 * with {@code --s3} also on an in-process imitation of S3 (the build makes {@code backupkit-s3.jsa} so, which
 * the launcher uses for calls naming an {@code s3://} location: the archive is mapped whole, ~20 MiB more RSS
 * for every call, worth it only where the AWS SDK is loaded anyway).
 * Not a command: {@code java -XX:DumpLoadedClassList=backupkit.classlist -cp backupkit.jar io.backupkit.cli.CdsTraining [--s3]},
 * whose class list the build dumps into a static archive ({@code java -Xshare:dump}; examples/pom.xml).
 */
public final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("backupkit-cds-");
        try {
            Map<String, String> env = Map.of(RepositoryOptions.ENV_PASSWORD, "cds-training-password");
            run(env, "--help");
            for (Class<?> c : BackupkitCli.SUBCOMMANDS) {
                picocli.CommandLine.Command cmd = c.getAnnotation(picocli.CommandLine.Command.class);
                if (cmd != null && !cmd.name().equals("help")) {
                    run(env, cmd.name(), "--help");
                }
            }
            String repo = dir.resolve("repo").toString();
            run(env, "init", "--repo", repo, "--json");
            try (Repository r = Repository.builder().location(repo).password("cds-training-password".toCharArray()).open()) {
                BackupManager.builder().repository(r).source(new Source()).parallelism(2).build().backup();
                RestoreManager.builder().repository(r).snapshot("latest").target(new Sink()).parallelism(2).build().restore();
            }
            run(env, "list", "--repo", repo);
            run(env, "list", "--repo", repo, "--json");
            run(env, "show", "--repo", repo, "latest");
            run(env, "verify", "--repo", repo, "latest", "--json");
            String plain = dir.resolve("plain").toString();
            run(Map.of(), "init", "--repo", plain, "--unencrypted");
            run(Map.of(), "list", "--repo", plain);
            trainPostgres(env, repo);
            if (List.of(args).contains("--s3")) {
                trainS3(env);
            }
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        // the archive is written at exit; a thread the S3 part may have left behind must not keep the build waiting
        System.exit(0);
    }

    /**
     * A PostgreSQL backup's classes (pgjdbc, the postgres engine, JDK networking): with no server to train
     * against, a real CLI backup runs as far as connecting (to a port where nothing listens, so it fails: the
     * CLI's backup path, the engine lookup and the error path are then in the archive), and the classes a real
     * backup and restore load after connecting are loaded by name from {@code cds-classes.txt}. Without them a
     * backup read ~480 classes from the jar and the JDK image and verified them on every call.
     */
    private static void trainPostgres(Map<String, String> env, String repo) {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        BackupkitCli.execute(new String[] {"backup", "--repo", repo, "--db", "postgresql://cds-training@127.0.0.1:1/cds",
                "--jobs", "2", "--progress", "none"}, sink, sink, env);
        ClassLoader loader = CdsTraining.class.getClassLoader();
        try (InputStream in = CdsTraining.class.getResourceAsStream("cds-classes.txt")) {
            if (in == null) {
                return;
            }
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String name = line.strip();
                if (name.isEmpty() || name.startsWith("#")) {
                    continue;
                }
                try {
                    // loaded, not initialized: the archive holds them parsed and verified, nothing runs
                    Class.forName(name, false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    // gone or renamed since the list was made: the archive is only smaller
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The same calls against an {@code s3://} repository on an in-process imitation of S3 ({@link TrainingS3}),
     * so that the archive also holds the AWS SDK's classes: an S3 call then starts ~0.4 CPU-s cheaper. Best
     * effort and bounded in time: if it fails or stalls, S3 calls only start slower, and the build goes on.
     */
    private static void trainS3(Map<String, String> env) {
        TrainingS3 s3;
        try {
            s3 = new TrainingS3();
        } catch (IOException | RuntimeException e) {
            System.err.println("CDS training: S3 part skipped: " + e);
            return;
        }
        Thread t = new Thread(() -> {
            // the SDK's default credentials chain, as users run it, finds these first
            System.setProperty("aws.accessKeyId", "cds-training");
            System.setProperty("aws.secretAccessKey", "cds-training-not-a-secret");
            String repo = "s3://cds-training/repo?endpoint=" + s3.endpoint() + "&path-style=true&region=us-east-1";
            try {
                run(env, "init", "--repo", repo, "--json");
                try (Repository r = Repository.builder().location(repo).password("cds-training-password".toCharArray()).open()) {
                    BackupManager.builder().repository(r).source(new Source()).parallelism(2).build().backup();
                    RestoreManager.builder().repository(r).snapshot("latest").target(new Sink()).parallelism(2).build().restore();
                }
                run(env, "list", "--repo", repo);
                run(env, "verify", "--repo", repo, "latest", "--json");
            } catch (RuntimeException | Error e) {
                System.err.println("CDS training: S3 part failed (the archive holds fewer S3 classes): " + e);
            } finally {
                System.clearProperty("aws.accessKeyId");
                System.clearProperty("aws.secretAccessKey");
            }
        }, "cds-training-s3-client");
        t.setDaemon(true);
        t.start();
        try {
            t.join(120_000);
            if (t.isAlive()) {
                System.err.println("CDS training: S3 part did not finish in 2 minutes; going on without it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            s3.close();
        }
    }

    private static void run(Map<String, String> env, String... args) {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        int code = BackupkitCli.execute(args, sink, sink, env);
        if (code != 0) {
            throw new IllegalStateException("training call " + String.join(" ", args) + " exited " + code + ": "
                    + sink.toString(StandardCharsets.UTF_8));
        }
    }

    /** A few MiB of text in two streams, like a small dump. */
    private static final class Source implements BackupSource {
        @Override
        public String engine() {
            return "cds-training";
        }

        @Override
        public String describe() {
            return "training data";
        }

        @Override
        public void backup(BackupContext context) {
            for (String name : List.of("a", "b")) {
                try (OutputStream out = context.newStream(name)) {
                    for (int i = 0; i < 60_000; i++) {
                        out.write((i + "\t" + name + "\trow " + (i * 31L % 9973) + "\t2026-01-01\n").getBytes(StandardCharsets.US_ASCII));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    /** Reads every stream to its end (which checks it) and keeps nothing. */
    private static final class Sink implements RestoreTarget {
        @Override
        public String engine() {
            return "cds-training";
        }

        @Override
        public String describe() {
            return "nowhere";
        }

        @Override
        public RestorePlan plan(RestoreContext context) {
            return new RestorePlan(describe(), List.of(), 0);
        }

        @Override
        public void restore(RestoreContext context) {
            for (SnapshotStream s : context.snapshot().streams()) {
                try (InputStream in = context.openStream(s.name())) {
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        @Override
        public List<VerificationCheck> verifyByRestore(RestoreContext context) {
            restore(context);
            return List.of();
        }
    }
}
