package io.backupkit.mysql;

import io.backupkit.LogArchive;
import io.backupkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The binary log archive's layout: pieces of a file being written, the whole file once finished, coverage and gaps. */
class BinlogArchiveTest {
    @TempDir
    Path dir;

    private static byte[] event(long time, int type, int bodyLength) {
        int size = 19 + bodyLength;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt((int) time).put((byte) type).putInt(1).putInt(size).putInt(0).putShort((short) 0);
        byte[] body = new byte[bodyLength];
        Arrays.fill(body, (byte) type);
        return b.put(body).array();
    }

    /** A binlog file: magic, then events; a rotate at the end when {@code finished}. */
    private static byte[] binlog(long firstTime, int events, boolean finished) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0xfe, 'b', 'i', 'n'});
        out.write(event(firstTime, 15, 80));
        for (int i = 0; i < events; i++) {
            out.write(event(firstTime + i, 2, 100 + i));
        }
        if (finished) {
            out.write(event(firstTime + events, 4, 20));
        }
        return out.toByteArray();
    }

    private Repository repo() {
        return Repository.builder().location(dir.resolve("repo").toString()).unencrypted().openOrCreate();
    }

    @Test
    void piecesFollowEachOther_thenTheFinishedFileReplacesThem() throws IOException {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Path f = spool.resolve("binlog.000007");
        try (Repository repo = repo()) {
            BinlogArchive archive = BinlogArchive.of(repo);
            byte[] full = binlog(1_000, 10, false);
            byte[] firstPart = Arrays.copyOf(full, full.length - 40); // the server is in the middle of an event
            Files.write(f, firstPart);
            assertTrue(archive.putPiece("server-1", f, 0).isPresent());
            long first = archive.archivedLength("server-1", "binlog.000007");
            assertTrue(first < firstPart.length && first > 4, "only complete events: " + first);
            assertTrue(archive.putPiece("server-1", f, first).isEmpty(), "nothing new");

            Files.write(f, full);
            assertTrue(archive.putPiece("server-1", f, first).isPresent());
            BinlogFile bf = archive.files("server-1").get(0);
            assertFalse(bf.complete());
            assertEquals(full.length, bf.length());
            assertEquals(2, bf.objectNames().size(), bf.objectNames().toString());
            assertEquals(Instant.ofEpochSecond(1_000), bf.firstEventTime());
            assertEquals(Instant.ofEpochSecond(1_009), bf.lastEventTime());
            Path fetched = dir.resolve("fetched");
            archive.fetch(bf, fetched);
            assertArrayEquals(full, Files.readAllBytes(fetched), "the pieces put together are the file");
            // the second piece stored only what the first lacked
            List<io.backupkit.LogObject> objects = LogArchive.open(repo, "binlog").list("server-1/");
            assertEquals(2, objects.size());

            byte[] finished = binlog(1_000, 10, true);
            Files.write(f, finished);
            archive.putComplete("server-1", f);
            assertEquals(2, archive.deletePieces("server-1", "binlog.000007"));
            bf = archive.files("server-1").get(0);
            assertTrue(bf.complete());
            assertEquals(finished.length, bf.length());
            assertEquals(List.of("server-1/binlog.000007"), bf.objectNames());
        }
    }

    @Test
    void coverage_findsTheRunFromTheStart_andNamesAGap() throws IOException {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        try (Repository repo = repo()) {
            BinlogArchive archive = BinlogArchive.of(repo);
            for (int seq : new int[] {3, 4, 6}) {
                Path f = spool.resolve(String.format("binlog.%06d", seq));
                Files.write(f, binlog(seq * 100L, 3, seq != 6));
                if (seq == 6) {
                    archive.putPiece("server-1", f, 0);
                } else {
                    archive.putComplete("server-1", f);
                }
            }
            BinlogArchive.Coverage c = archive.coverage("server-1", BinlogPosition.parse("binlog.000003:120"));
            assertEquals(List.of("binlog.000003", "binlog.000004"), c.files().stream().map(BinlogFile::name).toList());
            assertEquals(List.of("binlog.000005"), c.missing());
            assertEquals(Instant.ofEpochSecond(403), c.lastEvent());
            assertTrue(c.hasGap());
            BinlogArchive.Coverage none = archive.coverage("server-1", BinlogPosition.parse("binlog.000002:4"));
            assertEquals(List.of(), none.files());
            assertEquals(List.of("binlog.000002"), none.missing());
            assertEquals(List.of("server-1"), archive.sources());
        }
    }
}
