package io.backupkit.internal.repo;

import io.backupkit.Codecs;
import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import io.backupkit.internal.crypto.Hashes;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Reads blobs through an index: one ranged read per run of blobs that lie back to back in a pack, each
 * blob authenticated (its id is the associated data), decompressed to its recorded length and
 * re-hashed against its id. Wrong bytes are an {@link IntegrityException}, never returned.
 */
public final class BlobReader {
    private final DefaultRepository repo;
    private final BlobIndex index;

    public BlobReader(DefaultRepository repo, BlobIndex index) {
        this.repo = repo;
        this.index = index;
    }

    public BlobIndex index() {
        return index;
    }

    /** Where the blob lies; {@code context} (a snapshot object) names the referrer when it is in no index. */
    public BlobLocation locate(BlobId id, String streamName, String context) {
        BlobLocation loc = index.get(id);
        if (loc == null) {
            throw new IntegrityException(context, "blob " + id + (streamName == null ? "" : " of stream " + streamName) + " is in no index");
        }
        return loc;
    }

    public byte[] read(BlobId id, String streamName, String context) {
        return readAdjacent(List.of(id), List.of(locate(id, streamName, context)), streamName).get(0).data();
    }

    /**
     * A checked blob's plaintext and, in a repository that hashes each chunk once, the SHA-256 that
     * checked its id (else null): a stream digest over chunk digests reuses it instead of hashing again.
     */
    public record Plain(byte[] data, byte[] sha256) {
    }

    /**
     * Reads blobs of one pack with a single ranged read from the lowest offset to the highest end among
     * them (bytes between them are read and skipped), and decodes them in the order given.
     */
    public List<Plain> readAdjacent(List<BlobId> ids, List<BlobLocation> locs, String streamName) {
        Range range = fetch(ids.get(0), locs, streamName);
        return decodeAll(ids, locs, range);
    }

    /** Bytes {@code from…from+bytes.length} of {@code pack}, as one ranged read fetched them. */
    public record Range(String pack, int from, byte[] bytes) {
    }

    /**
     * Reads the bytes of one pack from the lowest offset to the highest end among {@code locs} with a single
     * ranged read, without decoding them: a read may then cover more blobs than may be decoded at once.
     *
     * @param firstId the blob at {@code locs.get(0)}, named when the pack is missing
     */
    public Range fetch(BlobId firstId, List<BlobLocation> locs, String streamName) {
        BlobLocation first = locs.get(0);
        int from = first.offset();
        long to = (long) first.offset() + first.length();
        for (BlobLocation l : locs) {
            from = Math.min(from, l.offset());
            to = Math.max(to, (long) l.offset() + l.length());
        }
        int length = Math.toIntExact(to - from);
        // straight into an array of the size asked for: readAllBytes would gather a MiB-sized range in 8 KiB
        // pieces and copy them once more, twice the garbage (the CLI's serial collector runs it on its VM thread)
        byte[] range = new byte[length];
        int got;
        boolean more;
        try (InputStream in = repo.storage().get(first.pack(), from, length)) {
            got = in.readNBytes(range, 0, length);
            more = got == length && in.read() >= 0;
        } catch (ObjectNotFoundException e) {
            throw new IntegrityException(first.pack(), "pack is missing (needed for blob " + firstId
                    + (streamName == null ? "" : " of stream " + streamName) + ")", e);
        } catch (IOException e) {
            throw new StorageException("reading " + first.pack() + " failed: " + e.getMessage(), true, e);
        }
        if (more) {
            // the pack may well be intact: the store (or a proxy in front of it) ignored the range
            throw new StorageException("reading " + first.pack() + ": the store returned more than the bytes " + from + "+" + length
                    + " asked for; it (or a proxy in front of it) ignores ranged reads", false);
        }
        if (got != length) {
            throw new IntegrityException(first.pack(), "pack is truncated: blobs need bytes " + from + "+" + length);
        }
        return new Range(first.pack(), from, range);
    }

    /** Decodes (authenticates, decompresses, checks) blobs that lie within {@code range}, in the order given. */
    public List<Plain> decodeAll(List<BlobId> ids, List<BlobLocation> locs, Range range) {
        List<Plain> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            BlobLocation loc = locs.get(i);
            if (!loc.pack().equals(range.pack()) || loc.offset() < range.from()
                    || (long) loc.offset() + loc.length() > (long) range.from() + range.bytes().length) {
                throw new IllegalArgumentException("blob " + ids.get(i) + " at " + loc + " is not within the range read");
            }
            out.add(decodeChecked(repo, ids.get(i), loc, range.bytes(), loc.offset() - range.from()));
        }
        return out;
    }

    /** Authenticates, decompresses and checks one sealed blob at {@code buf[off…]}. */
    public static byte[] decode(DefaultRepository repo, BlobId id, BlobLocation loc, byte[] buf, int off) {
        return decodeChecked(repo, id, loc, buf, off).data();
    }

    /** {@link #decode}, keeping the SHA-256 that checked the id where there is one. */
    public static Plain decodeChecked(DefaultRepository repo, BlobId id, BlobLocation loc, byte[] buf, int off) {
        byte[] plain = repo.sealer().open(buf, off, loc.length(), id.bytes())
                .orElseThrow(() -> new IntegrityException(loc.pack(), "blob " + id + " at offset " + loc.offset()
                        + " fails authentication; the pack is damaged"));
        if (plain.length == 0) {
            throw new IntegrityException(loc.pack(), "blob " + id + " is empty");
        }
        byte[] raw;
        try {
            raw = Codecs.byId(plain[0] & 0xff).decompress(plain, 1, plain.length - 1, loc.rawLength());
        } catch (RuntimeException e) {
            throw new IntegrityException(loc.pack(), "blob " + id + " does not decompress: " + e.getMessage(), e);
        }
        byte[] digest = null;
        BlobId actual;
        if (repo.hashesChunksOnce()) {
            // one pass: the SHA-256 checks the id and, in a restore, the stream's digest over chunk digests
            digest = Hashes.sha256(raw, 0, raw.length);
            actual = repo.blobIdOfDigest(digest);
        } else {
            actual = repo.blobId(raw, 0, raw.length);
        }
        if (!actual.equals(id)) {
            throw new IntegrityException(loc.pack(), "blob " + id + " content does not match its id");
        }
        return new Plain(raw, digest);
    }

    /** The ids a list blob holds (through the metadata cache, when there is one). */
    public BlobId[] readList(BlobId listId, String context) {
        if (!repo.cache().enabled()) {
            return BlobLists.decode(read(listId, null, context), context);
        }
        BlobLocation loc = locate(listId, null, context);
        byte[] plain = repo.cache().blob(listId, () -> readRange(loc), sealed -> decode(repo, listId, loc, sealed, 0));
        return BlobLists.decode(plain, context);
    }

    /** The sealed bytes of one blob. */
    public byte[] readRange(BlobLocation loc) {
        try (InputStream in = repo.storage().get(loc.pack(), loc.offset(), loc.length())) {
            byte[] b = in.readAllBytes();
            if (b.length != loc.length()) {
                throw new IntegrityException(loc.pack(), "pack is truncated: a blob needs bytes " + loc.offset() + "+" + loc.length());
            }
            return b;
        } catch (ObjectNotFoundException e) {
            throw new IntegrityException(loc.pack(), "pack is missing", e);
        } catch (IOException e) {
            throw new StorageException("reading " + loc.pack() + " failed: " + e.getMessage(), true, e);
        }
    }

    /** The data blob ids of a stream, in order, reading its list blobs one at a time as they are needed. */
    public StreamIds ids(Manifest.StreamEntry entry, String context) {
        return new StreamIds(entry, id -> readList(id, context));
    }

    /** An iterator with one id of look-ahead over a stream's blob ids. Not thread-safe. */
    public static final class StreamIds {
        private final Manifest.StreamEntry entry;
        private final Function<BlobId, BlobId[]> lists;
        private BlobId[] current = new BlobId[0];
        private int pos;
        private int nextList;
        private int nextHex;

        public StreamIds(Manifest.StreamEntry entry, Function<BlobId, BlobId[]> lists) {
            this.entry = entry;
            this.lists = lists;
        }

        public boolean hasNext() {
            while (pos >= current.length) {
                if (entry.blobs() != null) {
                    if (nextHex >= entry.blobs().size()) {
                        return false;
                    }
                    current = new BlobId[] {BlobId.parse(entry.blobs().get(nextHex++))};
                } else {
                    if (nextList >= entry.lists().size()) {
                        return false;
                    }
                    current = lists.apply(BlobId.parse(entry.lists().get(nextList++)));
                }
                pos = 0;
            }
            return true;
        }

        public BlobId peek() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return current[pos];
        }

        public BlobId next() {
            BlobId id = peek();
            pos++;
            return id;
        }
    }
}
