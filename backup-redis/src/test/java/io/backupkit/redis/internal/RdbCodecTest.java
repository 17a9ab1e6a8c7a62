package io.backupkit.redis.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RDB reader's codecs on hand-built inputs (real server output is covered by the ITs). */
class RdbCodecTest {
    @Test
    void crc64_matchesRedisCheckValue() {
        byte[] b = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xe9c6d914c4b8d9caL, Crc64.of(b, 0, b.length));
    }

    @Test
    void lzf_decompressesLiteralsAndBackReferences() {
        // "abcabcabcabc": literal "abc", then a back reference of length 9 at distance 3
        byte[] in = {2, 'a', 'b', 'c', (byte) ((7 << 5) | 0), 0, 2};
        assertEquals("abcabcabcabc", new String(Lzf.decompress(in, 12), StandardCharsets.US_ASCII));
        assertThrows(IllegalArgumentException.class, () -> Lzf.decompress(in, 13));
        assertThrows(IllegalArgumentException.class, () -> Lzf.decompress(new byte[] {(byte) 0x20, 5}, 3));
    }

    @Test
    void listpack_decodesEveryEncoding() {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        entry(e, new byte[] {5});                                   // 7-bit uint 5
        entry(e, concat(new byte[] {(byte) (0x80 | 3)}, "abc".getBytes(StandardCharsets.US_ASCII))); // 6-bit string
        entry(e, new byte[] {(byte) (0xc0 | 0x1f), (byte) 0xff});   // 13-bit int -1
        byte[] s100 = "x".repeat(100).getBytes(StandardCharsets.US_ASCII);
        entry(e, concat(new byte[] {(byte) 0xe0, 100}, s100));      // 12-bit string length
        entry(e, new byte[] {(byte) 0xf1, (byte) 0x00, (byte) 0x80}); // int16 -32768
        entry(e, new byte[] {(byte) 0xf2, 1, 0, (byte) 0x80});       // int24 -8388607
        entry(e, new byte[] {(byte) 0xf3, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f}); // int32 max
        entry(e, new byte[] {(byte) 0xf4, 0, 0, 0, 0, 0, 0, 0, (byte) 0x80}); // int64 min
        byte[] body = e.toByteArray();
        int total = 6 + body.length + 1;
        ByteArrayOutputStream lp = new ByteArrayOutputStream();
        lp.writeBytes(new byte[] {(byte) total, (byte) (total >> 8), 0, 0, 8, 0});
        lp.writeBytes(body);
        lp.write(0xff);
        List<String> out = Encodings.listpack(lp.toByteArray()).stream().map(b -> new String(b, StandardCharsets.US_ASCII)).toList();
        assertEquals(List.of("5", "abc", "-1", "x".repeat(100), "-32768", "-8388607", "2147483647", Long.toString(Long.MIN_VALUE)), out);
    }

    @Test
    void ziplist_decodesStringsAndIntegers() {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        z.writeBytes(new byte[10]); // zlbytes, zltail, zllen (not checked)
        z.writeBytes(new byte[] {0, 2, 'h', 'i'});            // prevlen 0, 6-bit string
        z.writeBytes(new byte[] {4, (byte) 0xf5});            // 4-bit immediate: 4
        z.writeBytes(new byte[] {2, (byte) 0xfe, (byte) 0x9c}); // int8 -100
        z.writeBytes(new byte[] {3, (byte) 0xc0, (byte) 0x39, (byte) 0x30}); // int16 12345
        z.writeBytes(new byte[] {4, (byte) 0xe0, 1, 0, 0, 0, 0, 0, 0, 0}); // int64 1
        z.write(0xff);
        List<String> out = Encodings.ziplist(z.toByteArray()).stream().map(b -> new String(b, StandardCharsets.US_ASCII)).toList();
        assertEquals(List.of("hi", "4", "-100", "12345", "1"), out);
    }

    @Test
    void intset_decodesEachWidth() {
        byte[] b = {2, 0, 0, 0, 2, 0, 0, 0, (byte) 0xff, (byte) 0xff, 7, 0};
        assertEquals(List.of("-1", "7"), Encodings.intset(b).stream().map(x -> new String(x, StandardCharsets.US_ASCII)).toList());
        assertThrows(RdbFormatException.class, () -> Encodings.intset(new byte[] {3, 0, 0, 0, 1, 0, 0, 0, 1, 2, 3}));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9})
    void damagedEncodings_failWithRdbFormatException_neverAnUncheckedCrash(int seed) {
        Random r = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            byte[] b = new byte[r.nextInt(64)];
            r.nextBytes(b);
            for (Runnable decode : List.<Runnable>of(() -> Encodings.listpack(b), () -> Encodings.ziplist(b), () -> Encodings.intset(b),
                    () -> Encodings.zipmap(b, ValueSink.NONE))) {
                try {
                    decode.run();
                } catch (RdbFormatException expected) {
                    // the only acceptable failure
                }
            }
        }
    }

    @Test
    void parser_readsAMinimalFile_andChecksItsChecksum() throws IOException {
        byte[] file = rdb(10, out -> {
            out.writeBytes(new byte[] {(byte) 0xfa, 9});
            out.writeBytes("redis-ver".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(new byte[] {6});
            out.writeBytes("7.0.15".getBytes(StandardCharsets.US_ASCII));
            out.writeBytes(new byte[] {(byte) 0xfe, 2});                        // SELECTDB 2
            out.writeBytes(new byte[] {(byte) 0xfc, 0x10, 0x27, 0, 0, 0, 0, 0, 0}); // expire at 10000 ms
            out.writeBytes(new byte[] {0, 1, 'k', (byte) 0xc0, (byte) 0xf6});  // "k" = int8 -10
        });
        List<String> seen = new ArrayList<>();
        RdbParser.Result result = new RdbParser(new ByteArrayInputStream(file), true).parse(new RdbParser.Visitor() {
            @Override
            public void aux(String key, String value) {
                seen.add(key + "=" + value);
            }

            @Override
            public ValueSink sinkFor(int db, byte[] key, KeyDigest.Kind kind) {
                return new ValueSink() {
                    @Override
                    public void string(byte[] value) {
                        seen.add(kind + ":" + new String(value, StandardCharsets.US_ASCII));
                    }
                };
            }

            @Override
            public void key(int db, byte[] key, int type, long expireAtMs, byte[] payloadBody) {
                seen.add("db" + db + " " + new String(key, StandardCharsets.US_ASCII) + " expires " + expireAtMs);
                assertArrayEquals(new byte[] {0, (byte) 0xc0, (byte) 0xf6}, payloadBody, "type byte and the value as stored");
            }
        });
        assertEquals(List.of("redis-ver=7.0.15", "string:-10", "db2 k expires 10000"), seen);
        assertEquals(10, result.version());
        assertEquals(file.length, result.bytes());
        assertTrue(result.checksumValid());

        file[file.length - 12] ^= 1; // a byte of the value
        RdbFormatException e = assertThrows(RdbFormatException.class,
                () -> new RdbParser(new ByteArrayInputStream(file), false).parse((db, key, type, expireAtMs, body) -> { }));
        assertTrue(e.getMessage().startsWith("the RDB checksum does not match"), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"REDIS0013, RDB version 13 is not supported", "RUBBISH00, does not start with an RDB header"})
    void parser_refusesUnknownVersionsAndOtherFiles(String head, String message) {
        byte[] file = (head + "\u00ff").getBytes(StandardCharsets.ISO_8859_1);
        RdbFormatException e = assertThrows(RdbFormatException.class,
                () -> new RdbParser(new ByteArrayInputStream(file), false).parse((db, key, type, expireAtMs, body) -> { }));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void versionTable() {
        assertEquals(9, RedisVersions.rdbVersion("6.2.14"));
        assertEquals(10, RedisVersions.rdbVersion("7.0.15"));
        assertEquals(11, RedisVersions.rdbVersion("7.2.4"));
        assertEquals(12, RedisVersions.rdbVersion("7.4.1"));
        assertEquals(12, RedisVersions.rdbVersion("8.0.2"));
        assertEquals(8, RedisVersions.rdbVersion("4.0.14"));
        assertTrue(RedisVersions.supported("5.0.0"));
        assertTrue(!RedisVersions.supported("4.0.14"));
        assertTrue(RedisVersions.hasRdbOnly("7.0.0") && !RedisVersions.hasRdbOnly("6.2.14"));
    }

    interface Body {
        void write(ByteArrayOutputStream out);
    }

    static byte[] rdb(int version, Body body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(String.format("REDIS%04d", version).getBytes(StandardCharsets.US_ASCII));
        body.write(out);
        out.write(0xff);
        long crc = Crc64.of(out.toByteArray(), 0, out.size());
        for (int i = 0; i < 8; i++) {
            out.write((int) (crc >>> (8 * i)));
        }
        return out.toByteArray();
    }

    private static void entry(ByteArrayOutputStream out, byte[] encoded) {
        out.writeBytes(encoded);
        int len = encoded.length;
        if (len < 128) {
            out.write(len);
        } else {
            out.write(len >> 7);
            out.write((len & 127) | 128);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = new byte[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
