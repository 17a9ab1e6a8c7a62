package io.backupkit.core;

import io.backupkit.Codecs;
import io.backupkit.internal.repo.Formats;
import io.backupkit.spi.CompressionCodec;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.Adler32;
import java.util.zip.DeflaterOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/repository-format.md describes what the code writes: labels, magics, versions, codec ids. */
class FormatDocTest {
    private static final Path DOC = Path.of("..", "docs", "repository-format.md");

    private static String doc() throws IOException {
        return Files.readString(DOC, StandardCharsets.UTF_8);
    }

    @Test
    void everyMagicAndAssociatedDataLabel_isDocumented() throws IOException {
        String doc = doc();
        for (byte[] constant : new byte[][] {Formats.CONFIG_MAGIC, Formats.PACK_MAGIC, Formats.INDEX_MAGIC, Formats.AD_CONFIG,
                Formats.AD_INDEX, Formats.AD_SNAPSHOT, Formats.AD_PACK_TRAILER, Formats.AD_LOCK}) {
            String s = new String(constant, StandardCharsets.US_ASCII);
            assertTrue(doc.contains(s), "docs/repository-format.md does not mention " + s);
        }
        // pack index format 2, prune state objects, blob lists
        for (String magic : new String[] {"BKI2", "BKS1", "BKT1"}) {
            assertTrue(doc.contains("\"" + magic), "docs/repository-format.md does not mention " + magic);
        }
    }

    @Test
    void codecIdTable_namesEveryBuiltInCodec_withItsId_andCodec2AsZlib() throws IOException {
        String doc = doc();
        for (CompressionCodec c : Codecs.all()) {
            String row = c.id() + " " + c.name();
            assertTrue(doc.contains(row), "docs/repository-format.md lacks codec '" + row + "'");
        }
        assertTrue(doc.contains("2 gzip (zlib stream, RFC 1950"), "codec 2 is documented as the zlib stream the code writes");
        assertTrue(!doc.contains("raw deflate"), "the doc must not call codec 2 raw deflate");
    }

    /** Codec 2 writes RFC 1950: a 2-byte header, deflate data, the Adler-32 of the plaintext. */
    @Test
    void codec2_writesAZlibStream_andReadsOneWrittenByAnotherEncoder() throws IOException {
        byte[] plain = new byte[200_000];
        new Random(7).nextBytes(plain);
        for (int i = 0; i < plain.length; i += 3) {
            plain[i] = 'x';
        }
        CompressionCodec gzip = Codecs.byName("gzip");
        assertEquals(2, gzip.id());
        byte[] z = gzip.compress(plain, 0, plain.length);
        int cmf = z[0] & 0xff;
        int flg = z[1] & 0xff;
        assertEquals(8, cmf & 0x0f, "deflate method");
        assertEquals(0, (cmf * 256 + flg) % 31, "zlib header check bits");
        Adler32 adler = new Adler32();
        adler.update(plain);
        long stored = ((z[z.length - 4] & 0xffL) << 24) | ((z[z.length - 3] & 0xffL) << 16) | ((z[z.length - 2] & 0xffL) << 8)
                | (z[z.length - 1] & 0xffL);
        assertEquals(adler.getValue(), stored, "Adler-32 trailer");

        ByteArrayOutputStream other = new ByteArrayOutputStream();
        try (DeflaterOutputStream out = new DeflaterOutputStream(other, new java.util.zip.Deflater(1))) {
            out.write(plain);
        }
        byte[] foreign = other.toByteArray();
        assertArrayEquals(plain, gzip.decompress(foreign, 0, foreign.length, plain.length));
    }

    @Test
    void versionTable_listsTheVersionsTheCodeReads() throws IOException {
        String doc = doc();
        assertTrue(doc.contains("| config | `version` in the sealed JSON | " + Formats.CONFIG_VERSION), "config version row");
        assertTrue(doc.contains("| key slot | `version` | " + Formats.KEY_SLOT_VERSION), "key slot version row");
        assertTrue(doc.contains("| snapshot manifest | `version` | " + Formats.MANIFEST_VERSION), "manifest version row");
    }
}
