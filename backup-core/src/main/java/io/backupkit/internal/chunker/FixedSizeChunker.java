package io.backupkit.internal.chunker;

/**
 * Cuts fixed-size blocks. With {@link ChunkingOutputStream#boundary()} marking where each file of an
 * archive starts, blocks are aligned to file offsets, so a page rewritten in place changes exactly
 * the one block that holds it (content-defined cuts would also move the cuts around it).
 */
public final class FixedSizeChunker implements Chunker {
    private final int blockSize;

    public FixedSizeChunker(int blockSize) {
        if (blockSize < 512) {
            throw new IllegalArgumentException("block size must be at least 512 bytes, was " + blockSize);
        }
        this.blockSize = blockSize;
    }

    @Override
    public int max() {
        return blockSize;
    }

    @Override
    public int cut(byte[] buf, int off, int len) {
        return Math.min(len, blockSize);
    }

    @Override
    public Scanner scanner() {
        return new Scanner() {
            private int pos;

            @Override
            public int scan(byte[] b, int off, int len) {
                int rest = blockSize - pos;
                if (len >= rest) {
                    pos = 0;
                    return rest;
                }
                pos += len;
                return 0;
            }

            @Override
            public void reset() {
                pos = 0;
            }

            @Override
            public int position() {
                return pos;
            }
        };
    }
}
