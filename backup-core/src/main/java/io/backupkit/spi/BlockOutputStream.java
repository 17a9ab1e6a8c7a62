package io.backupkit.spi;

import java.io.IOException;
import java.io.OutputStream;

/**
 * A backup stream whose writer can mark where a new unit (a file inside an archive) starts: no blob
 * spans a boundary, and with {@link Chunking#fixed(int)} blocks are counted from it, so blocks stay
 * aligned to file offsets however earlier files grew or shrank.
 */
public abstract class BlockOutputStream extends OutputStream {

    /**
     * Ends the current blob here. Cheap when nothing was written since the last boundary; marking a
     * boundary changes only how the stream is stored, never its bytes.
     */
    public abstract void boundary() throws IOException;
}
