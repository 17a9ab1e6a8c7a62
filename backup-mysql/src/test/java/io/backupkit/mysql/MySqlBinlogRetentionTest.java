package io.backupkit.mysql;

import io.backupkit.LogArchive;
import io.backupkit.LogObject;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.spi.LogRetention;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Binary log retention on an archive of synthetic objects (names and sizes are what retention reads):
 * which files go, which stay, and why. {@code MariaDbBinlogRetentionIT} runs it on real binary logs.
 */
class MySqlBinlogRetentionTest {
    @TempDir
    Path dir;

    private static int counter;

    private static Snapshot mysql(String serverId, String serverUuid, String file, long position) {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("format", 1);
        md.put("serverId", serverId);
        if (serverUuid != null) {
            md.put("serverUuid", serverUuid);
        }
        if (file != null) {
            md.put("binlog", Map.of("file", file, "position", position, "format", "ROW"));
            md.put("binlogPosition", file + ":" + position);
        }
        String id = String.format("%064x", ++counter);
        return new Snapshot(id, Instant.now(), "host", "mysql", "mariadb://root@db/shop", Map.of(), List.of(), md, 0, 0, 0);
    }

    private static Snapshot other(String engine) {
        String id = String.format("%064x", ++counter);
        return new Snapshot(id, Instant.now(), "host", engine, "x", Map.of(), List.of(),
                Map.of("binlog", Map.of("file", "binlog.000009", "position", 4L), "serverId", "1"), 0, 0, 0);
    }

    private Repository repo() {
        return Repository.builder().location(dir.resolve("repo").toString()).unencrypted().openOrCreate();
    }

    private static void put(LogArchive a, String... names) {
        for (String n : names) {
            a.put(n, ("content of " + n).getBytes(StandardCharsets.UTF_8), Map.of());
        }
    }

    private static List<String> names(LogArchive a) {
        return a.list("").stream().map(LogObject::name).toList();
    }

    private static LogRetention retention() {
        return ServiceLoader.load(LogRetention.class).stream().map(ServiceLoader.Provider::get)
                .filter(r -> r.engine().equals("mysql")).findFirst().orElseThrow(() -> new AssertionError("no LogRetention for mysql registered"));
    }

    @Test
    void filesBeforeTheOldestRetainedSnapshotsFileGo_itsFileAndLaterOnesStay() {
        try (Repository repo = repo()) {
            LogArchive a = LogArchive.open(repo, "binlog");
            put(a, "server-1/binlog.000001", "server-1/binlog.000002",
                    "server-1/binlog.000003.part.0000000000000000-0000000000000100", // a stale piece of a finished file
                    "server-1/binlog.000003", "server-1/binlog.000004", "server-1/binlog.000005",
                    "server-1/binlog.000006.part.0000000000000000-0000000000000200");
            LogRetention r = retention();
            assertTrue(r instanceof MySqlBinlogRetention);

            List<Snapshot> kept = List.of(mysql("1", null, "binlog.000005", 1200), mysql("1", null, "binlog.000004", 377), other("postgresql"));
            LogRetention.Result dry = r.apply(repo, kept, true);
            assertEquals(List.of("binlog/server-1/binlog.000001", "binlog/server-1/binlog.000002", "binlog/server-1/binlog.000003",
                    "binlog/server-1/binlog.000003.part.0000000000000000-0000000000000100"), dry.objects().stream().sorted().toList());
            assertTrue(dry.bytes() > 0);
            assertTrue(dry.notes().get(0).contains("kept from binlog.000004") && dry.notes().get(0).contains("would be removed"), dry.notes().toString());
            assertEquals(7, names(a).size(), "a dry run removes nothing");

            LogRetention.Result done = r.apply(repo, kept, false);
            assertEquals(dry.objects(), done.objects());
            assertEquals(List.of("server-1/binlog.000004", "server-1/binlog.000005",
                    "server-1/binlog.000006.part.0000000000000000-0000000000000200"), names(a));
            // idempotent: nothing more to remove
            assertEquals(List.of(), r.apply(repo, kept, false).objects());
        }
    }

    @Test
    void aSourceWithoutRetainedSnapshotKeepsEverything() {
        try (Repository repo = repo()) {
            LogArchive a = LogArchive.open(repo, "binlog");
            put(a, "server-1/binlog.000001", "server-1/binlog.000002", "server-2/binlog.000001", "server-2/binlog.000002",
                    "custom-name/binlog.000001", "custom-name/binlog.000002");
            LogRetention.Result none = new MySqlBinlogRetention().apply(repo, List.of(), false);
            assertEquals(List.of(), none.objects());
            assertEquals(6, names(a).size());
            assertEquals(3, none.notes().size(), none.notes().toString());
            assertTrue(none.notes().get(0).contains("custom-name") && none.notes().get(0).contains("kept"), none.notes().toString());

            // snapshots without coordinates (binary log off) or of another engine protect nothing and expire nothing
            LogRetention.Result noCoordinates = new MySqlBinlogRetention().apply(repo,
                    List.of(mysql("1", null, null, 0), other("postgresql"), other("sqlite")), false);
            assertEquals(List.of(), noCoordinates.objects());

            // only server-2 has a retained snapshot: only its older file goes
            LogRetention.Result two = new MySqlBinlogRetention().apply(repo, List.of(mysql("2", null, "binlog.000002", 4)), false);
            assertEquals(List.of("binlog/server-2/binlog.000001"), two.objects());
            assertEquals(List.of("custom-name/binlog.000001", "custom-name/binlog.000002", "server-1/binlog.000001",
                    "server-1/binlog.000002", "server-2/binlog.000002"), names(a));
        }
    }

    @Test
    void mysqlServersAreMatchedByServerUuid() {
        String uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        try (Repository repo = repo()) {
            LogArchive a = LogArchive.open(repo, "binlog");
            put(a, uuid + "/mysql-bin.000010", uuid + "/mysql-bin.000011", uuid + "/mysql-bin.000012", "server-7/mysql-bin.000010");
            LogRetention.Result r = new MySqlBinlogRetention().apply(repo, List.of(mysql("7", uuid, "mysql-bin.000012", 157)), false);
            assertEquals(List.of("binlog/" + uuid + "/mysql-bin.000010", "binlog/" + uuid + "/mysql-bin.000011"), r.objects());
            assertEquals(List.of(uuid + "/mysql-bin.000012", "server-7/mysql-bin.000010"), names(a));
        }
    }

    @Test
    void theNewestFileAndFilesOfAnotherBaseNameStay() {
        try (Repository repo = repo()) {
            LogArchive a = LogArchive.open(repo, "binlog");
            // the receiver stopped at 000003; the snapshot was taken later, at 000008
            put(a, "server-1/binlog.000001", "server-1/binlog.000002", "server-1/binlog.000003",
                    "server-1/old-name.000001", "server-1/binlog.000001.tmp-not-a-binlog");
            LogRetention.Result r = new MySqlBinlogRetention().apply(repo, List.of(mysql("1", null, "binlog.000008", 4)), false);
            assertEquals(List.of("binlog/server-1/binlog.000001", "binlog/server-1/binlog.000002"), r.objects());
            assertEquals(List.of("server-1/binlog.000001.tmp-not-a-binlog", "server-1/binlog.000003", "server-1/old-name.000001"), names(a));
            assertTrue(r.notes().get(0).contains("another binary log base name kept"), r.notes().toString());
        }
    }
}
