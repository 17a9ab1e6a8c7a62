package io.backupkit.postgres.internal.physical;

import io.backupkit.EngineException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tar headers backupkit writes read back with its reader and with GNU tar, names of every length. */
class TarTest {
    private static final String LONG_PREFIXED = "PG_15_202209061/" + "d".repeat(120) + "/16390";
    private static final String VERY_LONG = "log/" + "x".repeat(150) + "/" + "y".repeat(130) + ".log";

    @TempDir
    Path dir;

    private static byte[] archive(List<Object[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object[] e : entries) {
            String name = (String) e[0];
            if (e[1] == null) {
                out.writeBytes(TarWriter.directory(name, 0700, 1_700_000_000L));
            } else if (e[1] instanceof String link) {
                out.writeBytes(TarWriter.symlink(name, link, 1_700_000_000L));
            } else {
                byte[] content = (byte[]) e[1];
                out.writeBytes(TarWriter.file(name, content.length, 0600, 1_700_000_000L));
                out.writeBytes(content);
                out.writeBytes(new byte[TarWriter.padding(content.length)]);
            }
        }
        out.writeBytes(TarWriter.trailer());
        return out.toByteArray();
    }

    private static List<Object[]> sample() {
        Random r = new Random(3);
        byte[] big = new byte[8192 * 3 + 17];
        r.nextBytes(big);
        List<Object[]> entries = new ArrayList<>();
        entries.add(new Object[]{"base", null});
        entries.add(new Object[]{"base/1/1259", big});
        entries.add(new Object[]{"PG_VERSION", "15\n".getBytes(StandardCharsets.UTF_8)});
        entries.add(new Object[]{"empty", new byte[0]});
        entries.add(new Object[]{"pg_tblspc/16385", "/srv/ts/fast"});
        entries.add(new Object[]{LONG_PREFIXED, new byte[]{1, 2, 3}});
        entries.add(new Object[]{VERY_LONG, "log line\n".getBytes(StandardCharsets.UTF_8)});
        entries.add(new Object[]{"ümlaut/größe", new byte[]{7}});
        return entries;
    }

    @Test
    void writtenArchive_readsBackEntryForEntry() throws IOException {
        List<Object[]> entries = sample();
        TarReader reader = new TarReader(new ByteArrayInputStream(archive(entries)), "test");
        for (Object[] e : entries) {
            TarEntry t = reader.next();
            assertEquals(e[0], t.name());
            if (e[1] == null) {
                assertTrue(t.isDirectory());
                assertEquals(0700, t.mode());
            } else if (e[1] instanceof String link) {
                assertTrue(t.isSymlink());
                assertEquals(link, t.linkName());
            } else {
                assertTrue(t.isFile());
                assertEquals(0600, t.mode());
                assertEquals(1_700_000_000L, t.mtime());
                byte[] content = new byte[(int) t.size()];
                int off = 0;
                int n;
                while (off < content.length && (n = reader.read(content, off, content.length - off)) > 0) {
                    off += n;
                }
                assertArrayEquals((byte[]) e[1], content);
            }
            assertEquals(0, t.header().length % 512);
        }
        assertNull(reader.next());
    }

    @Test
    void writtenArchive_isReadByGnuTar() throws Exception {
        Path tar = dir.resolve("a.tar");
        Files.write(tar, archive(sample()));
        Process p = new ProcessBuilder("tar", "-tvf", tar.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains(LONG_PREFIXED) && out.contains(VERY_LONG) && out.contains("pg_tblspc/16385 -> /srv/ts/fast")
                && out.contains("ümlaut/größe"), out);
    }

    @Test
    void sizesFromEightGibibytes_useBase256() throws IOException {
        long size = 9L * 1024 * 1024 * 1024 + 5;
        byte[] header = TarWriter.file("base/16384/big", size, 0600, 1);
        TarEntry e = new TarReader(new ByteArrayInputStream(header), "test").next();
        assertEquals(size, e.size());
    }

    @Test
    void damagedHeader_isRejected_andACutArchiveIsNamed() throws IOException {
        byte[] a = archive(sample());
        byte[] damaged = a.clone();
        damaged[520] ^= 0x20; // inside the name of the second header
        TarReader r = new TarReader(new ByteArrayInputStream(damaged), "stream base.tar");
        assertEquals("base", r.next().name());
        EngineException e = assertThrows(EngineException.class, r::next);
        assertEquals("stream base.tar is not a valid tar archive (header checksum mismatch)", e.getMessage());

        TarReader cut = new TarReader(new ByteArrayInputStream(Arrays.copyOf(a, 2000)), "stream base.tar");
        cut.next();
        assertEquals("base/1/1259", cut.next().name());
        EngineException c = assertThrows(EngineException.class, () -> {
            byte[] buf = new byte[65536];
            while (cut.read(buf, 0, buf.length) >= 0) {
                // read until the cut
            }
        });
        assertEquals("stream base.tar ends inside a file: the archive is cut short", c.getMessage());
    }
}
