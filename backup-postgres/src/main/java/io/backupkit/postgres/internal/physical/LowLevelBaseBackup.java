package io.backupkit.postgres.internal.physical;

import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.Lsn;
import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.postgres.internal.Catalog;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BlockOutputStream;
import io.backupkit.spi.Chunking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A base backup through the low-level API where this JVM can read the data directory (same host, or a
 * sidecar sharing the volume): {@code pg_backup_start} in one JDBC session, the files read by several
 * threads into several tar streams at once, {@code pg_backup_stop} in the same session, then the WAL
 * from the start to the stop location copied into the snapshot, and {@code backup_label} and
 * {@code tablespace_map} stored as the server returned them. A temporary replication slot in the same
 * session keeps that WAL from being recycled meanwhile. If anything fails, closing the session aborts
 * the backup on the server.
 */
public final class LowLevelBaseBackup {
    private static final Logger LOG = LoggerFactory.getLogger(LowLevelBaseBackup.class);
    public static final String WAL_STREAM = "pg_wal.tar";
    public static final String LABEL_STREAM = "backup_label.tar";
    private static final int BUFFER = 256 * 1024;

    private final PgConnectionConfig cfg;
    private final Path dataDirectory;
    private final int blockSize;
    private final int readers;
    private final String label;

    public LowLevelBaseBackup(PgConnectionConfig cfg, Path dataDirectory, int blockSize, int readers, String label) {
        this.cfg = cfg;
        this.dataDirectory = dataDirectory;
        this.blockSize = blockSize;
        this.readers = readers;
        this.label = label;
    }

    /** Whether this JVM can read the cluster's data directory (its global/pg_control holds {@code systemIdentifier}). */
    public static boolean canRead(Path dataDirectory, String systemIdentifier) {
        try {
            ControlFile control = ControlFile.parse(Files.readAllBytes(dataDirectory.resolve("global/pg_control")));
            return systemIdentifier == null || systemIdentifier.equals(control.systemIdentifier());
        } catch (IOException | IllegalArgumentException | SecurityException e) {
            return false;
        }
    }

    public void run(BackupContext context) {
        try (Connection c = Catalog.connect(cfg, "backupkit physical backup")) {
            ClusterInfo info = ClusterInfo.read(c);
            info.requirePhysicalBackup(cfg.describe(), false);
            if (info.inRecovery()) {
                throw new ConfigurationException(cfg.describe() + " is a standby: the low-level method backs up a primary; "
                        + "use pg_basebackup (method PG_BASEBACKUP) to back up a standby");
            }
            Path dir = dataDirectory != null ? dataDirectory : info.dataDirectory() == null ? null : Path.of(info.dataDirectory());
            if (dir == null) {
                throw new ConfigurationException("role " + info.role() + " may not read data_directory on " + cfg.describe()
                        + ": give the data directory (PostgresPhysicalSource.dataDirectory, CLI: -o dataDirectory=DIR)");
            }
            byte[] controlBytes;
            try {
                controlBytes = Files.readAllBytes(dir.resolve("global/pg_control"));
            } catch (IOException | SecurityException e) {
                throw new ConfigurationException("cannot read " + dir.resolve("global/pg_control") + " from this JVM (" + e.getMessage()
                        + "): the low-level method needs the data directory of " + cfg.describe() + " readable here; use method "
                        + "PG_BASEBACKUP for a server whose files this JVM cannot see", e);
            }
            ControlFile control = ControlFile.parse(controlBytes);
            if (info.systemIdentifier() != null && !info.systemIdentifier().equals(control.systemIdentifier())) {
                throw new ConfigurationException(dir + " holds the cluster " + control.systemIdentifier() + ", not the one of "
                        + cfg.describe() + " (" + info.systemIdentifier() + "): give the data directory of that server");
            }
            String versionDir = tablespaceVersionDirectory(dir, info);
            context.expectedBytes(Sql.clusterBytes(c));
            String slot = Sql.reserveWal(c);
            BackupFunctions api = BackupFunctions.forVersion(info.versionNum());
            Instant started = Instant.now();
            try (PreparedStatement ps = c.prepareStatement(api.start())) {
                ps.setString(1, label);
                ps.execute();
            }
            List<DataDirectoryScanner.Item> items = DataDirectoryScanner.scan(dir, info.tablespaces(), versionDir);
            FileList fileList = new FileList();
            long[] copied = copyFiles(context, items, fileList);
            String labelFile;
            String spcmap;
            Lsn stop;
            try (PreparedStatement ps = c.prepareStatement(api.stop()); ResultSet rs = ps.executeQuery()) {
                rs.next();
                stop = Lsn.parse(rs.getString(1));
                labelFile = rs.getString(2);
                spcmap = rs.getString(3);
            }
            Instant stopTime = Instant.now();
            BackupLabel bl = BackupLabel.parse(labelFile);
            long seg = info.walSegmentSize();
            String startWal = WalNames.segmentOf(bl.timeline(), bl.startLsn(), seg);
            String stopWal = WalNames.segmentName(bl.timeline(), PhysicalMetadata.lastSegment(stop, seg), seg);
            copyWal(context, dir, bl.timeline(), bl.startLsn().segmentNumber(seg), PhysicalMetadata.lastSegment(stop, seg), seg, fileList);
            writeLabel(context, labelFile, spcmap, stopTime, fileList);
            fileList.write(context);
            PhysicalMetadata meta = new PhysicalMetadata(PhysicalMetadata.METHOD_LOW_LEVEL, control.systemIdentifier(), bl.timeline(),
                    bl.startLsn(), stop, bl.checkpointLsn(), startWal, stopWal, bl.startTime() != null ? bl.startTime() : started,
                    stopTime, info.version(), info.versionNum(), seg, info.tablespaces(), true, info.superuser(), blockSize,
                    labelFile, copied[0], copied[1]);
            meta.toMap().forEach(context::putMetadata);
            context.putMetadata("fileList", FileList.STREAM);
            LOG.info("base backup of {} (low-level, {} readers{}): {} files, {} bytes, WAL {} to {}", cfg.describe(), readers,
                    slot == null ? "" : ", WAL held by slot " + slot, copied[0], copied[1], bl.startLsn(), stop);
        } catch (SQLException e) {
            throw Catalog.sqlError("base backup of " + cfg.describe(), e);
        }
    }

    private static String tablespaceVersionDirectory(Path dir, ClusterInfo info) {
        String prefix = "PG_" + info.versionNum() / 10000 + "_";
        for (ClusterInfo.Tablespace t : info.tablespaces()) {
            Path link = dir.resolve("pg_tblspc").resolve(Long.toString(t.oid()));
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(link)) {
                for (Path p : ds) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(prefix)) {
                        return n;
                    }
                }
            } catch (IOException e) {
                throw new ConfigurationException("cannot read tablespace " + t.name() + " at " + link + ": " + e.getMessage(), e);
            }
        }
        return prefix;
    }

    /** Splits the files into streams (per area, in proportion to size) and copies them with {@code readers} threads. */
    private long[] copyFiles(BackupContext context, List<DataDirectoryScanner.Item> items, FileList fileList) {
        Map<String, List<DataDirectoryScanner.Item>> byArea = new LinkedHashMap<>();
        for (DataDirectoryScanner.Item i : items) {
            byArea.computeIfAbsent(i.area(), a -> new ArrayList<>()).add(i);
        }
        long total = Math.max(1, items.stream().mapToLong(DataDirectoryScanner.Item::size).sum());
        List<Part> parts = new ArrayList<>();
        for (Map.Entry<String, List<DataDirectoryScanner.Item>> e : byArea.entrySet()) {
            long areaBytes = e.getValue().stream().mapToLong(DataDirectoryScanner.Item::size).sum();
            int n = (int) Math.max(1, Math.min(readers, Math.round((double) readers * areaBytes / total)));
            parts.addAll(split(e.getKey(), e.getValue(), n));
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(readers, parts.size())), r -> {
            Thread t = new Thread(r, "backupkit-basebackup-reader");
            t.setDaemon(true);
            return t;
        });
        AtomicLong files = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        try {
            List<CompletableFuture<Void>> running = new ArrayList<>();
            for (Part p : parts) {
                running.add(CompletableFuture.runAsync(() -> writePart(context, p, files, bytes, fileList), pool));
            }
            CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).join();
        } catch (CompletionException e) {
            Throwable t = e.getCause();
            if (t instanceof BackupException b) {
                throw b;
            }
            throw new EngineException("reading the data directory failed: " + t.getMessage(), t);
        } finally {
            pool.shutdownNow();
        }
        return new long[]{files.get(), bytes.get()};
    }

    private record Part(String stream, List<DataDirectoryScanner.Item> items) {
    }

    /** Directories and links go first into the first part; files are balanced by size (largest first). */
    static List<Part> split(String area, List<DataDirectoryScanner.Item> items, int n) {
        List<List<DataDirectoryScanner.Item>> bins = new ArrayList<>();
        long[] sizes = new long[n];
        for (int i = 0; i < n; i++) {
            bins.add(new ArrayList<>());
        }
        List<DataDirectoryScanner.Item> files = new ArrayList<>();
        for (DataDirectoryScanner.Item i : items) {
            if (i.type() == TarEntry.FILE) {
                files.add(i);
            } else {
                bins.get(0).add(i);
            }
        }
        files.sort(Comparator.comparingLong(DataDirectoryScanner.Item::size).reversed().thenComparing(DataDirectoryScanner.Item::name));
        for (DataDirectoryScanner.Item f : files) {
            int best = 0;
            for (int i = 1; i < n; i++) {
                if (sizes[i] < sizes[best]) {
                    best = i;
                }
            }
            bins.get(best).add(f);
            sizes[best] += f.size();
        }
        List<Part> parts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<DataDirectoryScanner.Item> bin = bins.get(i);
            if (bin.isEmpty() && i > 0) {
                continue;
            }
            // directories and links keep scan order (parents first); files follow by name
            List<DataDirectoryScanner.Item> sorted = new ArrayList<>(bin);
            sorted.removeIf(x -> x.type() == TarEntry.FILE);
            List<DataDirectoryScanner.Item> binFiles = new ArrayList<>(bin);
            binFiles.removeIf(x -> x.type() != TarEntry.FILE);
            binFiles.sort(Comparator.comparing(DataDirectoryScanner.Item::name));
            sorted.addAll(binFiles);
            parts.add(new Part(streamName(area, i + 1), sorted));
        }
        return parts;
    }

    /** "base.tar", "base.2.tar", …, "16385.tar", "16385.2.tar". */
    public static String streamName(String area, int index) {
        return index == 1 ? area + ".tar" : area + "." + index + ".tar";
    }

    private void writePart(BackupContext context, Part part, AtomicLong files, AtomicLong bytes, FileList fileList) {
        byte[] buf = new byte[BUFFER];
        try (BlockOutputStream out = context.newStream(part.stream(), PhysicalMetadata.chunking(blockSize))) {
            for (DataDirectoryScanner.Item i : part.items()) {
                switch (i.type()) {
                    case TarEntry.DIRECTORY -> {
                        out.boundary();
                        out.write(TarWriter.directory(i.name(), i.mode(), i.mtime()));
                        fileList.add(i.area(), i.type(), 0, i.mtime(), i.mode(), i.name());
                    }
                    case TarEntry.SYMLINK -> {
                        out.boundary();
                        out.write(TarWriter.symlink(i.name(), i.link(), i.mtime()));
                        fileList.add(i.area(), i.type(), 0, i.mtime(), 0777, i.name() + " -> " + i.link());
                    }
                    default -> {
                        long n = copyFile(i, out, buf);
                        if (n >= 0) {
                            files.incrementAndGet();
                            bytes.addAndGet(n);
                            fileList.add(i.area(), i.type(), n, i.mtime(), i.mode(), i.name());
                        }
                    }
                }
            }
            out.boundary();
            out.write(TarWriter.trailer());
        } catch (IOException e) {
            throw new EngineException("writing " + part.stream() + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Copies one file: its size when opened goes into the header; a file that shrinks meanwhile is
     * padded with zeros and one that grows is cut (WAL replay repairs both, as for PostgreSQL's own base
     * backup). A file removed before it is opened is left out. Returns the bytes archived, or -1.
     */
    private static long copyFile(DataDirectoryScanner.Item item, BlockOutputStream out, byte[] buf) throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(item.path(), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return -1;
        }
        try (ch; InputStream in = Channels.newInputStream(ch)) {
            long size = ch.size();
            out.boundary();
            out.write(TarWriter.file(item.name(), size, item.mode(), item.mtime()));
            out.boundary();
            long left = size;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buf, 0, n);
                left -= n;
            }
            while (left > 0) {
                int n = (int) Math.min(buf.length, left);
                java.util.Arrays.fill(buf, 0, n, (byte) 0);
                out.write(buf, 0, n);
                left -= n;
            }
            out.write(new byte[TarWriter.padding(size)]);
            return size;
        }
    }

    private void copyWal(BackupContext context, Path dir, int timeline, long firstSeg, long lastSeg, long segSize, FileList fileList) {
        Path walDir = dir.resolve("pg_wal");
        byte[] buf = new byte[BUFFER];
        try (BlockOutputStream out = context.newStream(WAL_STREAM, PhysicalMetadata.chunking(blockSize))) {
            for (long s = firstSeg; s <= lastSeg; s++) {
                String name = WalNames.segmentName(timeline, s, segSize);
                Path p = walDir.resolve(name);
                DataDirectoryScanner.Item item = new DataDirectoryScanner.Item("base", "pg_wal/" + name, p, TarEntry.FILE, segSize, 0600,
                        Instant.now().getEpochSecond(), null);
                fileList.add("base", TarEntry.FILE, segSize, item.mtime(), 0600, item.name());
                if (copyFile(item, out, buf) < 0) {
                    throw new EngineException("WAL segment " + name + " that the backup needs was removed from " + walDir
                            + " before it could be copied; the backup is not usable. Give the role REPLICATION (so a temporary "
                            + "slot holds WAL) or raise wal_keep_size, and run the backup again");
                }
            }
            out.boundary();
            out.write(TarWriter.trailer());
        } catch (IOException e) {
            throw new EngineException("copying WAL from " + walDir + " failed: " + e.getMessage(), e);
        }
    }

    private void writeLabel(BackupContext context, String labelFile, String spcmap, Instant time, FileList fileList) {
        try (BlockOutputStream out = context.newStream(LABEL_STREAM, Chunking.contentDefined())) {
            writeSmall(out, "backup_label", labelFile, time);
            fileList.add("base", TarEntry.FILE, labelFile.getBytes(StandardCharsets.UTF_8).length, time.getEpochSecond(), 0600, "backup_label");
            if (spcmap != null && !spcmap.isEmpty()) {
                writeSmall(out, "tablespace_map", spcmap, time);
                fileList.add("base", TarEntry.FILE, spcmap.getBytes(StandardCharsets.UTF_8).length, time.getEpochSecond(), 0600,
                        "tablespace_map");
            }
            out.write(TarWriter.trailer());
        } catch (IOException e) {
            throw new EngineException("writing backup_label failed: " + e.getMessage(), e);
        }
    }

    private static void writeSmall(BlockOutputStream out, String name, String content, Instant time) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        out.write(TarWriter.file(name, b.length, 0600, time.getEpochSecond()));
        out.write(b);
        out.write(new byte[TarWriter.padding(b.length)]);
    }
}
