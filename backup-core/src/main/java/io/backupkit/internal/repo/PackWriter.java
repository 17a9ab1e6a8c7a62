package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;

import io.backupkit.IntegrityException;
import io.backupkit.spi.Storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Builds one pack in memory: sealed blobs back to back, then a sealed trailer listing them, then the
 * trailer's length (4 bytes, big endian). The pack's name is the SHA-256 of all its bytes. Not
 * thread-safe: callers serialize access.
 *
 * <p>Two ways to hold the blobs until {@link #finish}: one array (given, or allocated and grown), or
 * segments of about 1 MiB ({@link #inSegments}) gathered into one array, which the caller supplies, at
 * {@link #finish}. Segments never grow: an array that grows leaves its old copies to the collector, and
 * since a pack lives long enough to be promoted, each copy takes room in the old generation until a full
 * collection (docs/performance.md, "rss-pgbench").
 */
public final class PackWriter {
    /** The pack's bytes {@code [0, size)}; null while the blobs are in segments. */
    private byte[] buf;
    private int size;
    private final List<PackEntry.Blob> blobs = new ArrayList<>();

    /** While the blobs are in segments: the pack's bytes are the used part of each, in order; else null. */
    private List<Segment> segments;
    /**
     * Bytes of the segments held (this pack's and those taken over in a merge), unused ends included: what
     * the 8 MiB move is measured against, as the old growing buffer's 8 MiB was.
     */
    private long segmentBytes;
    /** Where a pack in segments gets its one array at {@link #finish}: called with the bytes needed. */
    private final IntFunction<byte[]> finishArray;

    private final int expectedCapacity;
    /** Bytes of the arrays this writer allocated. */
    private long bytesAllocated;

    /** Bytes of a segment; a sealed blob that is larger gets a segment of its own size. */
    static final int SEGMENT = 1024 * 1024;

    private static final class Segment {
        final byte[] bytes;
        int used;

        Segment(byte[] bytes, int used) {
            this.bytes = bytes;
            this.used = used;
        }
    }

    public PackWriter(int initialCapacity) {
        this(initialCapacity, initialCapacity);
    }

    /**
     * Up to this size a pack's buffer doubles, or a pack fills segments; past it, it grows (or is gathered)
     * straight to the expected capacity.
     */
    private static final int SMALL = 8 << 20;
    /** Room for a trailer besides its entries: magic, count, the seal's overhead, the length. */
    private static final int TRAILER_ROOM = 8 + 1024 + 4;

    /**
     * @param initialCapacity  bytes allocated now
     * @param expectedCapacity what a full pack needs; a buffer doubles up to 8 MiB, then grows straight to
     *                         it (then by half as needed)
     */
    public PackWriter(int initialCapacity, int expectedCapacity) {
        this.buf = new byte[initialCapacity];
        this.bytesAllocated = initialCapacity;
        this.expectedCapacity = Math.max(initialCapacity, expectedCapacity);
        this.finishArray = null;
    }

    /**
     * Starts a pack in {@code buffer}, the buffer of a pack that nothing reads any more, instead of a new
     * one. Its old bytes are never read (a pack is {@code buf[0, size)}, and this pack writes every byte
     * there), so the pack comes out byte for byte as in a new buffer; one that is too small grows as a new
     * one would.
     */
    public PackWriter(byte[] buffer, int expectedCapacity) {
        this.buf = buffer;
        this.expectedCapacity = Math.max(buffer.length, expectedCapacity);
        this.finishArray = null;
    }

    private PackWriter(int expectedCapacity, IntFunction<byte[]> finishArray) {
        this.segments = new ArrayList<>();
        this.expectedCapacity = expectedCapacity;
        this.finishArray = finishArray;
    }

    /**
     * A pack whose blobs go into segments of about 1 MiB, allocated as it fills and never copied while it
     * fills, up to 8 MiB; then, or at {@link #finish}, they are copied once into an array of at least the
     * bytes it asks {@code finishArray} for (the full size past 8 MiB; it may return a used buffer: every byte
     * of the pack is written there). The pack comes out byte for byte as from one array.
     */
    public static PackWriter inSegments(int expectedCapacity, IntFunction<byte[]> finishArray) {
        return new PackWriter(expectedCapacity, finishArray);
    }

    /**
     * The array the pack is in now ({@link Finished#bytes()} once finished; null while its blobs are in
     * segments), for a caller that hands it to a later pack once the last reader of this one is done with it.
     */
    public byte[] buffer() {
        return buf;
    }

    /** Bytes of the arrays this writer allocated (not the one {@link #inSegments}' finishArray gave it). */
    public long bytesAllocated() {
        return bytesAllocated;
    }

    public int size() {
        return size;
    }

    public int blobCount() {
        return blobs.size();
    }

    public void add(BlobId id, byte[] sealed, int rawLength) {
        add(id, sealed, 0, sealed.length, rawLength);
    }

    /** Appends the sealed blob {@code sealed[off, off+len)}. */
    public void add(BlobId id, byte[] sealed, int off, int len, int rawLength) {
        leaveSegmentsBeforeSmall(len);
        if (segments != null) {
            Segment seg = segmentWithRoom(len);
            System.arraycopy(sealed, off, seg.bytes, seg.used, len);
            seg.used += len;
        } else {
            ensure(len);
            System.arraycopy(sealed, off, buf, size, len);
        }
        blobs.add(new PackEntry.Blob(id, size, len, rawLength));
        size += len;
    }

    /**
     * Appends every blob of {@code other}, sealed as they are, in its order. Used to merge a backup's last
     * packs, which take no more blobs: the buffer grows to what they and the trailer need, not to the full
     * pack size (two lanes' packs of 5 MiB in 8 MiB buffers merged into an 18 MiB one otherwise).
     */
    public void appendAll(PackWriter other) {
        int merged = (int) ((long) size + other.size + TRAILER_ROOM + (long) (blobs.size() + other.blobs.size()) * PackEntry.ENTRY_BYTES);
        if (other.segments == null) {
            if (segments != null && segmentBytes + other.size > SMALL) {
                // other's blobs would move this pack at 8 MiB into an array of the full size; it takes no more
                // blobs after the merge, so into one of what the two and the trailer need
                gather(merged);
            }
            if (segments == null) {
                growTo(merged);
            }
            for (PackEntry.Blob b : other.blobs) {
                add(b.id(), other.buf, b.offset(), b.length(), b.rawLength());
            }
            return;
        }
        int base = size;
        if (segments != null) {
            // other's segments become this pack's, as they are: nothing else writes or reads them any more
            segments.addAll(other.segments);
            segmentBytes += other.segmentBytes;
            size += other.size;
        } else {
            growTo(merged);
            for (Segment seg : other.segments) {
                System.arraycopy(seg.bytes, 0, buf, size, seg.used);
                size += seg.used;
            }
        }
        for (PackEntry.Blob b : other.blobs) {
            blobs.add(new PackEntry.Blob(b.id(), base + b.offset(), b.length(), b.rawLength()));
        }
        other.segments = new ArrayList<>();
        other.segmentBytes = 0;
        other.blobs.clear();
        other.size = 0;
    }

    /**
     * Seals {@code payload[off, off+len)} with {@code id} as associated data straight into the pack
     * (no intermediate array) and appends its entry.
     */
    public void seal(BlobId id, Sealer sealer, byte[] payload, int off, int len, int rawLength) {
        int n;
        leaveSegmentsBeforeSmall(len + sealer.overhead());
        if (segments != null) {
            Segment seg = segmentWithRoom(len + sealer.overhead());
            n = sealer.seal(payload, off, len, id.bytes(), seg.bytes, seg.used);
            seg.used += n;
        } else {
            ensure(len + sealer.overhead());
            n = sealer.seal(payload, off, len, id.bytes(), buf, size);
        }
        blobs.add(new PackEntry.Blob(id, size, n, rawLength));
        size += n;
    }

    /**
     * The last segment if {@code bytes} fit after its used part, else a new one: a blob lies within one
     * segment, so it is sealed or copied straight into place (the unused end of a segment is not part of
     * the pack).
     */
    private Segment segmentWithRoom(int bytes) {
        if (lastSegmentHasRoom(bytes)) {
            return segments.get(segments.size() - 1);
        }
        Segment seg = new Segment(new byte[Math.max(SEGMENT, bytes)], 0);
        bytesAllocated += seg.bytes.length;
        segmentBytes += seg.bytes.length;
        segments.add(seg);
        return seg;
    }

    private boolean lastSegmentHasRoom(int bytes) {
        if (segments.isEmpty()) {
            return false;
        }
        Segment last = segments.get(segments.size() - 1);
        return last.bytes.length - last.used >= bytes;
    }

    /**
     * A pack in segments that {@code bytes} more would take past 8 MiB of them most likely fills: it goes into
     * one array of the full size now, rather than into more segments (a blob never straddles two, so their
     * unused ends grow with the blobs' size).
     */
    private void leaveSegmentsBeforeSmall(int bytes) {
        if (segments != null && segmentsPassSmall(bytes)) {
            gather(expectedCapacity);
        }
    }

    /** Grows the one array to at least {@code bytes}, in one step (a merge: the pack takes no more blobs). */
    private void growTo(int bytes) {
        if (bytes > buf.length) {
            buf = Arrays.copyOf(buf, bytes);
            bytesAllocated += bytes;
        }
    }

    /**
     * Whether {@code bytes} more would take the segments past 8 MiB, unused ends counted: a blob lies within
     * one segment, so blobs of about half a segment leave up to half of each unused (default chunks of
     * data that does not compress: ~1.3 x the pack's bytes), and a pack moved at 8 MiB of its own bytes held
     * up to twice that in segments beside the full-size array it moved into.
     */
    private boolean segmentsPassSmall(int bytes) {
        return !lastSegmentHasRoom(bytes) && segmentBytes + Math.max(SEGMENT, bytes) > SMALL;
    }


    private void ensure(int extra) {
        if (size + extra > buf.length) {
            // doubling while small, then once to the full size: doubling 1 → 2 → … → 16 MiB left 31 MiB of
            // copies per full pack to the collector (they outlive a young collection, so each one filled the old
            // generation towards a full collection); 1 → 2 → 4 → 8 → full leaves 15. A backup's packs no
            // longer grow (they fill a stored pack's buffer, or segments); a given buffer that is too small
            // and a pack started with a small array do
            int grown = buf.length >= expectedCapacity ? buf.length + buf.length / 2
                    : buf.length >= SMALL ? expectedCapacity : (int) Math.min(expectedCapacity, 2L * buf.length);
            buf = Arrays.copyOf(buf, Math.max(grown, size + extra));
            bytesAllocated += buf.length;
        }
    }

    /** Copies the segments, in order, into one array of at least {@code bytes} from finishArray. */
    private void gather(int bytes) {
        byte[] out = finishArray.apply(bytes);
        if (out.length < bytes) {
            throw new IllegalStateException("an array of " + out.length + " bytes for a pack of " + bytes);
        }
        int at = 0;
        for (Segment seg : segments) {
            System.arraycopy(seg.bytes, 0, out, at, seg.used);
            at += seg.used;
        }
        buf = out;
        segments = null;
        segmentBytes = 0;
    }

    /** A finished pack: its bytes ({@code bytes[0, length)}) and its index entry. */
    public record Finished(byte[] bytes, int length, PackEntry entry) {
    }

    public Finished finish(Sealer sealer) {
        byte[] trailer = new byte[8 + blobs.size() * PackEntry.ENTRY_BYTES];
        System.arraycopy(Formats.PACK_MAGIC, 0, trailer, 0, 4);
        Formats.putInt(trailer, 4, blobs.size());
        PackEntry.writeEntries(blobs, trailer, 8);
        byte[] sealedTrailer = sealer.seal(trailer, Formats.AD_PACK_TRAILER);
        if (segments != null) {
            gather(size + sealedTrailer.length + 4);
        }
        ensure(sealedTrailer.length + 4);
        System.arraycopy(sealedTrailer, 0, buf, size, sealedTrailer.length);
        size += sealedTrailer.length;
        Formats.putInt(buf, size, sealedTrailer.length);
        size += 4;
        String name = Formats.packName(Hashes.hex(Hashes.sha256(buf, 0, size)));
        return new Finished(buf, size, new PackEntry(name, size, List.copyOf(blobs)));
    }

    /** Bytes read from a pack's end to find its trailer in one request (a 16 MiB pack's trailer is ~1 KiB). */
    private static final int TAIL_READ = 64 * 1024;

    /** Reads a pack's trailer from the whole pack; throws IntegrityException naming the pack when damaged. */
    public static List<PackEntry.Blob> readTrailer(String name, byte[] pack, Sealer sealer) {
        return readTrailer(name, pack, 0, pack.length, pack.length, sealer);
    }

    /**
     * Reads a pack's trailer with ranged reads (usually one, of the pack's last 64 KiB), for
     * verification without reading the whole pack.
     */
    public static List<PackEntry.Blob> readTrailer(String name, Storage storage, long packSize, Sealer sealer) {
        if (packSize < 4 || packSize > Integer.MAX_VALUE) {
            throw new IntegrityException(name, "pack size " + packSize + " is invalid");
        }
        int tail = (int) Math.min(packSize, TAIL_READ);
        byte[] end = readRange(name, storage, packSize - tail, tail);
        int tlen = Formats.getInt(end, end.length - 4);
        if (tlen >= 0 && tlen + 4L > tail && tlen + 4L <= packSize) {
            tail = tlen + 4;
            end = readRange(name, storage, packSize - tail, tail);
        }
        return readTrailer(name, end, 0, end.length, packSize, sealer);
    }

    private static byte[] readRange(String name, Storage storage, long offset, int length) {
        try (InputStream in = storage.get(name, offset, length)) {
            byte[] b = in.readAllBytes();
            if (b.length != length) {
                throw new IntegrityException(name, "pack is shorter than expected: " + b.length + " of " + length + " bytes at " + offset);
            }
            return b;
        } catch (IOException e) {
            throw new io.backupkit.StorageException("reading " + name + " failed: " + e.getMessage(), true, e);
        }
    }

    /**
     * Parses the trailer at the end of {@code buf[off, off+len)}, which holds the last {@code len}
     * bytes of a pack of {@code packSize} bytes. Every field is checked: length, seal, magic, entry
     * count against the trailer's size, and each entry within the blob area before the trailer.
     */
    private static List<PackEntry.Blob> readTrailer(String name, byte[] buf, int off, int len, long packSize, Sealer sealer) {
        if (len < 4) {
            throw new IntegrityException(name, "pack is truncated: " + len + " bytes");
        }
        int tlen = Formats.getInt(buf, off + len - 4);
        if (tlen < sealer.overhead() || tlen > len - 4) {
            throw new IntegrityException(name, "pack trailer length " + tlen + " is invalid for a pack of " + packSize + " bytes");
        }
        long trailerStart = packSize - 4 - tlen;
        byte[] t = sealer.open(buf, off + len - 4 - tlen, tlen, Formats.AD_PACK_TRAILER)
                .orElseThrow(() -> new IntegrityException(name, "pack trailer fails authentication"));
        Formats.checkMagic(name, "pack trailer", t, 0, Formats.PACK_MAGIC);
        if (t.length < 8) {
            throw new IntegrityException(name, "pack trailer is truncated after its magic");
        }
        int count = Formats.getInt(t, 4);
        if (count < 0 || (long) count * PackEntry.ENTRY_BYTES != t.length - 8) {
            throw new IntegrityException(name, "pack trailer lists " + count + " blobs in " + (t.length - 8) + " bytes of entries");
        }
        List<PackEntry.Blob> out = new ArrayList<>(count);
        long next = 0;
        for (int i = 0; i < count; i++) {
            PackEntry.Blob b = PackEntry.readEntry(t, 8 + i * PackEntry.ENTRY_BYTES);
            PackEntry.checkEntry(name, b, trailerStart, sealer.overhead());
            // blobs are written back to back from offset 0 up to the trailer: no byte is left unaccounted
            if (b.offset() != next) {
                throw new IntegrityException(name, "pack trailer's blob " + i + " starts at " + b.offset() + ", expected " + next);
            }
            next = (long) b.offset() + b.length();
            out.add(b);
        }
        if (next != trailerStart) {
            throw new IntegrityException(name, "pack trailer's blobs end at " + next + " but the trailer starts at " + trailerStart);
        }
        return out;
    }
}
