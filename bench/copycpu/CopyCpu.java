import io.backupkit.postgres.internal.CopyStreams;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.postgresql.copy.PGCopyInputStream;

import java.io.*;
import java.lang.management.ManagementFactory;
import java.nio.file.*;
import java.sql.*;
import java.util.*;

/**
 * CPU of reading one COPY text stream the way a logical backup does (256 KiB reads, rows counted by
 * CopyStreams.Counter), through a psql child (today's path) or through pgjdbc in this JVM. Prints the
 * JVM's CPU for the copy and the PostgreSQL cluster's CPU (postmaster + backends, from /proc); run it
 * under /usr/bin/time to get the psql child's CPU too (total - JVM). docs/performance.md, "copyjdbc".
 *
 * <pre>
 * CP=backup-postgres/target/classes:$HOME/.m2/repository/org/postgresql/postgresql/42.7.14/postgresql-42.7.14.jar
 * /usr/bin/time -f '%U+%S' java -Dreps=3 -Xmx160m -XX:+UseSerialGC -cp $CP bench/copycpu/CopyCpu.java \
 *     MODE PORT DB "COPY pgbench_accounts TO STDOUT WITH (ENCODING 'UTF8')" PGDATA/postmaster.pid [socketFactoryClass]
 * </pre>
 * MODE: psql (a psql child, $PGBIN/psql), stream (PGCopyInputStream.read(byte[])), copyout
 * (CopyManager.copyOut into an OutputStream), rows (CopyOut.readFromCopy, one array per row), connect
 * (only a JDBC connection: its class-loading cost), noop. -Dreps=N repeats the copy in one JVM (warm).
 */
public class CopyCpu {
    static long procCpu() { return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime(); }
    static long[] pgCpu(int postmaster) throws IOException {
        // postmaster's own + reaped children (cutime/cstime) + live children: all backend CPU, in ticks
        long total = 0;
        for (Path p : Files.newDirectoryStream(Paths.get("/proc"), "[0-9]*")) {
            try {
                String s = Files.readString(p.resolve("stat"));
                String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
                int ppid = Integer.parseInt(f[1]);
                int pid = Integer.parseInt(p.getFileName().toString());
                if (pid == postmaster) total += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
                else if (ppid == postmaster) total += Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException | RuntimeException e) { }
        }
        return new long[] {total};
    }
    public static void main(String[] a) throws Exception {
        String mode = a[0]; int port = Integer.parseInt(a[1]); String db = a[2]; String sql = a[3];
        int postmaster = Integer.parseInt(Files.readAllLines(Paths.get(a[4])).get(0).trim());
        Properties p = new Properties(); p.setProperty("user", "postgres");
        if (a.length > 5) p.setProperty("socketFactory", a[5]);
        CopyStreams.Counter counter0 = new CopyStreams.Counter();
        long bytes = 0;
        int reps = Integer.getInteger("reps", 1);
        for (int rep = 0; rep < reps; rep++) { bytes = 0; CopyStreams.Counter counter = new CopyStreams.Counter();
        long pg0 = pgCpu(postmaster)[0];
        long c0 = procCpu(), w0 = System.nanoTime();
        switch (mode) {
            case "psql" -> {
                Process pr = new ProcessBuilder(System.getenv().getOrDefault("PGBIN", "/usr/lib/postgresql/15/bin") + "/psql", "-X", "-q", "-h", "127.0.0.1", "-p", "" + port, "-U", "postgres", "-d", db, "-c", sql)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                try (InputStream in = pr.getInputStream()) {
                    byte[] buf = new byte[256 * 1024]; int n;
                    while ((n = in.read(buf)) >= 0) { counter.update(buf, 0, n); bytes += n; }
                }
                if (pr.waitFor() != 0) throw new IllegalStateException("psql failed");
            }
            case "copyout" -> {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p)) {
                    long[] nb = {0};
                    ((PGConnection) c).getCopyAPI().copyOut(sql, new OutputStream() {
                        public void write(int b) { throw new UnsupportedOperationException(); }
                        public void write(byte[] b, int off, int len) { counter.update(b, off, len); nb[0] += len; }
                    });
                    bytes = nb[0];
                }
            }
            case "stream" -> {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p);
                     InputStream in = new PGCopyInputStream((PGConnection) c, sql)) {
                    byte[] buf = new byte[256 * 1024]; int n;
                    while ((n = in.read(buf)) >= 0) { counter.update(buf, 0, n); bytes += n; }
                }
            }
            case "rows" -> {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p)) {
                    CopyOut co = ((PGConnection) c).getCopyAPI().copyOut(sql);
                    byte[] r;
                    while ((r = co.readFromCopy()) != null) { counter.update(r, 0, r.length); bytes += r.length; }
                }
            }
            case "noop" -> { }
            case "connect" -> { try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p)) { c.createStatement().execute("select 1"); } }
        }
        long c1 = procCpu(), w1 = System.nanoTime();
        Thread.sleep(200); // let the backend exit and be reaped
        long pg1 = pgCpu(postmaster)[0];
        System.out.printf("%s bytes=%d rows=%d wall=%.2fs jvmCopyCpu=%.2fs pgCpu=%.2fs ns/B(jvm)=%.2f%n", mode, bytes, counter.openRows(),
                (w1 - w0) / 1e9, (c1 - c0) / 1e9, (pg1 - pg0) / 100.0, bytes == 0 ? 0 : (c1 - c0) / (double) bytes);
        }
    }
}
