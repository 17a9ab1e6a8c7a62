package io.backupkit.internal.codec;

import com.github.luben.zstd.Zstd;
import io.backupkit.spi.CompressionCodec;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import java.util.zip.DataFormatException;

/** The codecs shipped with backup-core. Ids are part of the repository format: never change them. */
public final class BuiltinCodecs {
    public static final CompressionCodec NONE = new NoneCodec();
    public static final CompressionCodec ZSTD = new ZstdCodec(3);
    public static final CompressionCodec GZIP = new DeflateCodec(6);
    public static final CompressionCodec BZIP2 = new StreamCodec("bzip2", 3, 9, 1, 9) {
        @Override
        OutputStream wrap(OutputStream out, int level) throws IOException {
            return new BZip2CompressorOutputStream(out, level);
        }

        @Override
        InputStream unwrap(InputStream in) throws IOException {
            return new BZip2CompressorInputStream(in);
        }
    };
    public static final CompressionCodec XZ = new StreamCodec("xz", 4, 6, 0, 9) {
        @Override
        OutputStream wrap(OutputStream out, int level) throws IOException {
            return new XZCompressorOutputStream(out, level);
        }

        @Override
        InputStream unwrap(InputStream in) throws IOException {
            return new XZCompressorInputStream(in);
        }
    };
    public static final CompressionCodec LZ4 = new Lz4Codec();
    public static final List<CompressionCodec> ALL = List.of(NONE, ZSTD, GZIP, BZIP2, XZ, LZ4);

    private BuiltinCodecs() {
    }

    private static void checkLevel(String name, int level, int min, int max) {
        if (level < min || level > max) {
            throw new IllegalArgumentException(name + " level must be between " + min + " and " + max + ", was " + level);
        }
    }

    private static byte[] exact(byte[] out, int expected, String name) {
        if (out.length != expected) {
            throw new IllegalArgumentException(name + " data decompressed to " + out.length + " bytes, expected " + expected);
        }
        return out;
    }

    private record NoneCodec() implements CompressionCodec {
        public String name() {
            return "none";
        }

        public int id() {
            return 0;
        }

        public int level() {
            return 0;
        }

        public CompressionCodec withLevel(int level) {
            return this;
        }

        public byte[] compress(byte[] src, int offset, int length) {
            return Arrays.copyOfRange(src, offset, offset + length);
        }

        public int compress(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
            if (length > dst.length - dstOffset) {
                return -1;
            }
            System.arraycopy(src, offset, dst, dstOffset, length);
            return length;
        }

        public byte[] decompress(byte[] src, int offset, int length, int originalLength) {
            return exact(Arrays.copyOfRange(src, offset, offset + length), originalLength, "uncompressed");
        }
    }

    private record ZstdCodec(int level) implements CompressionCodec {
        ZstdCodec {
            checkLevel("zstd", level, 1, 22);
        }

        public String name() {
            return "zstd";
        }

        public int id() {
            return 1;
        }

        public CompressionCodec withLevel(int level) {
            return new ZstdCodec(level);
        }

        public byte[] compress(byte[] src, int offset, int length) {
            byte[] dst = new byte[(int) Zstd.compressBound(length)];
            int n = compress(src, offset, length, dst, 0);
            return Arrays.copyOf(dst, n);
        }

        /**
         * With a context reused per thread: {@code Zstd.compressByteArray} creates and frees one (and
         * its tables, ~1 MiB of native memory at level 3) per call.
         */
        public int compress(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
            ZstdContexts.Compress ctx = ZstdContexts.compressor(level);
            try {
                return ctx.compress(src, offset, length, dst, dstOffset);
            } finally {
                ZstdContexts.give(ctx);
            }
        }

        public byte[] decompress(byte[] src, int offset, int length, int originalLength) {
            byte[] dst = new byte[originalLength];
            long n = Zstd.decompressByteArray(dst, 0, originalLength, src, offset, length);
            if (Zstd.isError(n)) {
                throw new IllegalArgumentException("zstd data invalid: " + Zstd.getErrorName(n));
            }
            return exact(n == originalLength ? dst : Arrays.copyOf(dst, (int) n), originalLength, "zstd");
        }
    }

    /** LZ4 block format (lz4-java); the blob header records the raw length the block needs. */
    private record Lz4Codec() implements CompressionCodec {
        /** Loaded on first use: finding the fastest instance loads a native library, ~20 ms of every CLI start otherwise. */
        private static final class Lz4 {
            static final LZ4Compressor COMPRESSOR = LZ4Factory.fastestInstance().fastCompressor();
            static final LZ4SafeDecompressor DECOMPRESSOR = LZ4Factory.fastestInstance().safeDecompressor();
        }

        public String name() {
            return "lz4";
        }

        public int id() {
            return 5;
        }

        public int level() {
            return 1;
        }

        public CompressionCodec withLevel(int level) {
            checkLevel("lz4", level, 1, 1);
            return this;
        }

        public byte[] compress(byte[] src, int offset, int length) {
            byte[] dst = new byte[Lz4.COMPRESSOR.maxCompressedLength(length)];
            int n = Lz4.COMPRESSOR.compress(src, offset, length, dst, 0, dst.length);
            return Arrays.copyOf(dst, n);
        }

        public int compress(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
            try {
                return Lz4.COMPRESSOR.compress(src, offset, length, dst, dstOffset, dst.length - dstOffset);
            } catch (LZ4Exception e) {
                return -1; // does not fit
            }
        }

        public byte[] decompress(byte[] src, int offset, int length, int originalLength) {
            byte[] dst = new byte[originalLength];
            try {
                int n = Lz4.DECOMPRESSOR.decompress(src, offset, length, dst, 0, originalLength);
                return exact(n == originalLength ? dst : Arrays.copyOf(dst, n), originalLength, "lz4");
            } catch (LZ4Exception e) {
                throw new IllegalArgumentException("lz4 data invalid: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Codec 2, named "gzip" for users: a zlib stream (RFC 1950: 2-byte header, deflate data, Adler-32
     * of the plaintext), which is what {@link Deflater} and {@link Inflater} write and read by default.
     * No gzip header: the blob's codec byte already says what follows. Stored blobs depend on this.
     */
    private record DeflateCodec(int level) implements CompressionCodec {
        DeflateCodec {
            checkLevel("gzip", level, 1, 9);
        }

        public String name() {
            return "gzip";
        }

        public int id() {
            return 2;
        }

        public CompressionCodec withLevel(int level) {
            return new DeflateCodec(level);
        }

        public byte[] compress(byte[] src, int offset, int length) {
            Deflater d = new Deflater(level);
            try {
                d.setInput(src, offset, length);
                d.finish();
                ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, length / 2));
                byte[] buf = new byte[64 * 1024];
                while (!d.finished()) {
                    int n = d.deflate(buf);
                    out.write(buf, 0, n);
                }
                return out.toByteArray();
            } finally {
                d.end();
            }
        }

        public byte[] decompress(byte[] src, int offset, int length, int originalLength) {
            Inflater inf = new Inflater();
            try {
                inf.setInput(src, offset, length);
                byte[] dst = new byte[originalLength];
                int n = 0;
                while (n < originalLength && !inf.finished()) {
                    int r = inf.inflate(dst, n, originalLength - n);
                    if (r == 0 && (inf.needsInput() || inf.needsDictionary())) {
                        break;
                    }
                    n += r;
                }
                if (n != originalLength || !inf.finished()) {
                    throw new IllegalArgumentException("gzip data invalid: got " + n + " of " + originalLength + " bytes");
                }
                return dst;
            } catch (DataFormatException e) {
                throw new IllegalArgumentException("gzip data invalid: " + e.getMessage(), e);
            } finally {
                inf.end();
            }
        }
    }

    /** Codecs that only exist as streams in Commons Compress. */
    private abstract static class StreamCodec implements CompressionCodec {
        private final String name;
        private final int id;
        private final int level;
        private final int min;
        private final int max;

        StreamCodec(String name, int id, int level, int min, int max) {
            checkLevel(name, level, min, max);
            this.name = name;
            this.id = id;
            this.level = level;
            this.min = min;
            this.max = max;
        }

        abstract OutputStream wrap(OutputStream out, int level) throws IOException;

        abstract InputStream unwrap(InputStream in) throws IOException;

        public String name() {
            return name;
        }

        public int id() {
            return id;
        }

        public int level() {
            return level;
        }

        public CompressionCodec withLevel(int newLevel) {
            checkLevel(name, newLevel, min, max);
            StreamCodec self = this;
            return new StreamCodec(name, id, newLevel, min, max) {
                OutputStream wrap(OutputStream out, int l) throws IOException {
                    return self.wrap(out, l);
                }

                InputStream unwrap(InputStream in) throws IOException {
                    return self.unwrap(in);
                }
            };
        }

        public byte[] compress(byte[] src, int offset, int length) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, length / 2));
            try (OutputStream out = wrap(bytes, level)) {
                out.write(src, offset, length);
            } catch (IOException e) {
                throw new UncheckedIOException(name + " compression failed", e);
            }
            return bytes.toByteArray();
        }

        public byte[] decompress(byte[] src, int offset, int length, int originalLength) {
            try (InputStream in = unwrap(new ByteArrayInputStream(src, offset, length))) {
                byte[] out = in.readNBytes(originalLength);
                if (out.length != originalLength || in.read() != -1) {
                    throw new IllegalArgumentException(name + " data does not decompress to " + originalLength + " bytes");
                }
                return out;
            } catch (IOException e) {
                throw new IllegalArgumentException(name + " data invalid: " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return name + ":" + level;
        }
    }
}
