package io.backupkit.internal.codec;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdException;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Reused zstd compression contexts, pooled per level. A context holds its tables between calls, so
 * compressing a blob neither allocates nor frees native memory; the pool holds at most as many
 * contexts per level as threads ever compressed at that level at once.
 */
final class ZstdContexts {
    private static final Map<Integer, ConcurrentLinkedQueue<Compress>> IDLE = new ConcurrentHashMap<>();

    private ZstdContexts() {
    }

    /** One context at one level; used by one thread at a time. */
    static final class Compress {
        private final int level;
        private final ZstdCompressCtx ctx;

        private Compress(int level) {
            this.level = level;
            this.ctx = new ZstdCompressCtx().setLevel(level);
        }

        int compress(byte[] src, int offset, int length, byte[] dst, int dstOffset) {
            try {
                return ctx.compressByteArray(dst, dstOffset, dst.length - dstOffset, src, offset, length);
            } catch (ZstdException e) {
                if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
                    ctx.reset(); // a frame that did not fit leaves the context mid-frame
                    ctx.setLevel(level);
                    return -1;
                }
                throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
            }
        }
    }

    static Compress compressor(int level) {
        Compress c = IDLE.computeIfAbsent(level, l -> new ConcurrentLinkedQueue<>()).poll();
        return c != null ? c : new Compress(level);
    }

    static void give(Compress c) {
        IDLE.get(c.level).offer(c);
    }
}
