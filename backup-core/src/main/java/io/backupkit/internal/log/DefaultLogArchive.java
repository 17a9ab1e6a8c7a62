package io.backupkit.internal.log;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LogArchive;
import io.backupkit.LogConflictException;
import io.backupkit.LogObject;
import io.backupkit.LogObjectInfo;
import io.backupkit.LogPutResult;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.Formats;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** {@link LogArchive} over a repository's storage, sealer and codec. */
public final class DefaultLogArchive implements LogArchive {
    private static final Pattern NAMESPACE = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,254}");

    private final Storage storage;
    private final Sealer sealer;
    private final CompressionCodec codec;
    private final String namespace;
    private final String prefix;

    private DefaultLogArchive(Storage storage, Sealer sealer, CompressionCodec codec, String namespace) {
        this.storage = storage;
        this.sealer = sealer;
        this.codec = codec;
        this.namespace = namespace;
        this.prefix = namespace + "/";
    }

    public static LogArchive.Builder builder() {
        return new Builder();
    }

    @Override
    public String namespace() {
        return namespace;
    }

    @Override
    public String location() {
        return storage.location();
    }

    /** The storage name of {@code name}, after checking it is a valid archive name. */
    String storageName(String name) {
        checkName(name);
        return prefix + name;
    }

    static void checkName(String name) {
        if (name == null || name.isEmpty() || name.length() > 1024) {
            throw new ConfigurationException("invalid log object name '" + name + "'");
        }
        for (String part : name.split("/", -1)) {
            if (!PART.matcher(part).matches() || part.equals("..")) {
                throw new ConfigurationException("invalid log object name '" + name
                        + "': use '/'-separated parts of letters, digits, '.', '_' and '-'");
            }
        }
    }

    @Override
    public LogPutResult put(String name, Path file, Map<String, String> attributes) {
        String full = storageName(name);
        long started = System.nanoTime();
        checkAttributes(attributes);
        Optional<ObjectInfo> existing = storage.stat(full);
        if (existing.isPresent()) {
            // a retry: compare hashes without building a new object
            return compareExisting(name, full, existing.get(), hashFile(file), sizeOf(file), started);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return store(name, full, in, attributes, started);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("file " + file + " does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public LogPutResult put(String name, byte[] content, Map<String, String> attributes) {
        String full = storageName(name);
        long started = System.nanoTime();
        checkAttributes(attributes);
        Optional<ObjectInfo> existing = storage.stat(full);
        if (existing.isPresent()) {
            return compareExisting(name, full, existing.get(), Hashes.hex(Hashes.sha256(content, 0, content.length)), content.length, started);
        }
        try {
            return store(name, full, new ByteArrayInputStream(content), attributes, started);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void checkAttributes(Map<String, String> attributes) {
        int size = 0;
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            size += e.getKey().length() + (e.getValue() == null ? 0 : e.getValue().length());
        }
        if (size > LogObjectFormat.MAX_ATTRIBUTES) {
            throw new ConfigurationException("log object attributes are too large (" + size + " characters; at most "
                    + LogObjectFormat.MAX_ATTRIBUTES + ")");
        }
    }

    private LogPutResult store(String name, String full, InputStream in, Map<String, String> attributes, long started) throws IOException {
        MessageDigest sha = Hashes.sha256();
        byte[] piece = new byte[LogObjectFormat.PIECE_SIZE];
        long length = 0;
        int index = 0;
        try (SealedObjectBuffer buffer = new SealedObjectBuffer()) {
            // read one piece ahead so the last piece is known when it is sealed
            int n = in.readNBytes(piece, 0, piece.length);
            while (true) {
                byte[] next = new byte[LogObjectFormat.PIECE_SIZE];
                int m = n == piece.length ? in.readNBytes(next, 0, next.length) : 0;
                boolean last = m == 0;
                sha.update(piece, 0, n);
                length += n;
                byte[] sealed = sealer.seal(LogObjectFormat.encodePiece(codec, piece, 0, n), LogObjectFormat.pieceAd(full, index, last));
                byte[] framed = new byte[4 + sealed.length];
                framed[0] = (byte) (sealed.length >>> 24);
                framed[1] = (byte) (sealed.length >>> 16);
                framed[2] = (byte) (sealed.length >>> 8);
                framed[3] = (byte) sealed.length;
                System.arraycopy(sealed, 0, framed, 4, sealed.length);
                buffer.append(framed);
                index++;
                if (last) {
                    break;
                }
                piece = next;
                n = m;
            }
            String hash = Hashes.hex(sha.digest());
            LogObjectFormat.Header header = new LogObjectFormat.Header(1, full, length, hash, LogObjectFormat.PIECE_SIZE, index,
                    Instant.now(), new TreeMap<>(attributes));
            byte[] sealedHeader = LogObjectFormat.sealHeader(header, sealer);
            ByteArrayOutputStream head = new ByteArrayOutputStream(8 + sealedHeader.length);
            head.write(Formats.LOG_MAGIC);
            LogObjectFormat.putInt(head, sealedHeader.length);
            head.write(sealedHeader);
            Payload payload = buffer.payload(head.toByteArray());
            if (storage.putIfAbsent(full, payload)) {
                return new LogPutResult(name, LogPutResult.Status.STORED, length, payload.length(), hash,
                        Duration.ofNanos(System.nanoTime() - started));
            }
            // lost a race with another writer of the same name
            ObjectInfo other = storage.stat(full).orElseThrow(() -> new StorageException("log object " + full
                    + " was reported present but cannot be found in " + storage.location(), true));
            return compareExisting(name, full, other, hash, length, started);
        }
    }

    private LogPutResult compareExisting(String name, String full, ObjectInfo existing, String offeredHash, long offeredLength, long started) {
        LogObjectInfo stored = readHeader(name, full, existing.size());
        if (!stored.sha256().equals(offeredHash) || stored.length() != offeredLength) {
            throw new LogConflictException(full, stored.sha256(), offeredHash, full + " already holds different content ("
                    + stored.length() + " bytes, SHA-256 " + stored.sha256().substring(0, 16) + "…; offered " + offeredLength
                    + " bytes, SHA-256 " + offeredHash.substring(0, 16) + "…) in " + storage.location()
                    + ". Log objects are written once and never replaced: find out why two different files have the same name"
                    + " (two servers archiving into one place, or a damaged file) before archiving continues.");
        }
        return new LogPutResult(name, LogPutResult.Status.ALREADY_PRESENT, stored.length(), existing.size(), offeredHash,
                Duration.ofNanos(System.nanoTime() - started));
    }

    private static String hashFile(Path file) {
        MessageDigest sha = Hashes.sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                sha.update(buf, 0, n);
            }
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("file " + file + " does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return Hashes.hex(sha.digest());
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    @Override
    public boolean exists(String name) {
        return storage.stat(storageName(name)).isPresent();
    }

    @Override
    public Optional<LogObjectInfo> info(String name) {
        String full = storageName(name);
        Optional<ObjectInfo> o = storage.stat(full);
        if (o.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(readHeader(name, full, o.get().size()));
    }

    private LogObjectInfo readHeader(String name, String full, long size) {
        if (size < 8) {
            throw new IntegrityException(full, "log object is cut short (" + size + " bytes)");
        }
        // one ranged read covers almost every header; a second one fetches a larger header
        long first = Math.min(size, 4096);
        byte[] start = readRange(full, 0, first);
        if (!java.util.Arrays.equals(java.util.Arrays.copyOf(start, 4), Formats.LOG_MAGIC)) {
            throw new IntegrityException(full, "not a backupkit log object (bad magic)");
        }
        int headerLength = LogObjectFormat.getInt(start, 4);
        if (headerLength <= 0 || headerLength > LogObjectFormat.MAX_HEADER || 8L + headerLength > size) {
            throw new IntegrityException(full, "log object header length " + headerLength + " is out of range");
        }
        byte[] sealed = 8 + headerLength <= start.length ? start : readRange(full, 0, 8 + headerLength);
        LogObjectFormat.Header h = LogObjectFormat.openHeader(full, sealed, 8, headerLength, sealer);
        return new LogObjectInfo(name, h.length(), h.sha256(), h.created(), h.attributes() == null ? Map.of() : h.attributes(), size);
    }

    private byte[] readRange(String full, long offset, long length) {
        try (InputStream in = storage.get(full, offset, length)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new StorageException("reading " + full + " from " + storage.location() + " failed: " + e.getMessage(), true, e);
        }
    }

    @Override
    public long read(String name, OutputStream out) {
        try (InputStream in = open(name)) {
            return in.transferTo(out);
        } catch (IOException e) {
            throw new StorageException("reading " + storageName(name) + " from " + storage.location() + " failed: " + e.getMessage(), true, e);
        }
    }

    @Override
    public InputStream open(String name) {
        String full = storageName(name);
        InputStream raw = storage.get(full);
        try {
            return new LogObjectReader(full, new java.io.BufferedInputStream(raw, 1 << 16), sealer);
        } catch (IOException e) {
            closeQuietly(raw);
            throw new StorageException("reading " + full + " from " + storage.location() + " failed: " + e.getMessage(), true, e);
        } catch (RuntimeException e) {
            closeQuietly(raw);
            throw e;
        }
    }

    @Override
    public byte[] readAllBytes(String name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        read(name, out);
        return out.toByteArray();
    }

    @Override
    public List<LogObject> list(String namePrefix) {
        if (namePrefix == null) {
            namePrefix = "";
        }
        List<LogObject> out = new ArrayList<>();
        for (ObjectInfo o : storage.list(prefix + namePrefix)) {
            out.add(new LogObject(o.name().substring(prefix.length()), o.size(), o.modified()));
        }
        out.sort(Comparator.comparing(LogObject::name));
        return out;
    }

    @Override
    public void delete(String name) {
        storage.delete(storageName(name));
    }

    @Override
    public int delete(Collection<String> names) {
        List<String> full = new ArrayList<>(names.size());
        for (String n : names) {
            full.add(storageName(n));
        }
        storage.delete(full);
        return full.size();
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    @Override
    public String toString() {
        return "LogArchive[" + storage.location() + ", " + namespace + "/]";
    }

    /** Builds {@link DefaultLogArchive}s. */
    static final class Builder implements LogArchive.Builder {
        private Repository repository;
        private String namespace;
        private CompressionCodec codec;

        @Override
        public LogArchive.Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        @Override
        public LogArchive.Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        @Override
        public LogArchive.Builder compression(CompressionCodec codec) {
            this.codec = codec;
            return this;
        }

        @Override
        public LogArchive build() {
            if (repository == null) {
                throw new ConfigurationException("a LogArchive needs a repository");
            }
            if (!(repository instanceof DefaultRepository repo)) {
                throw new ConfigurationException("a LogArchive needs a repository opened by Repository.builder(), not "
                        + repository.getClass().getName());
            }
            if (namespace == null || !NAMESPACE.matcher(namespace).matches() || RESERVED.contains(namespace)) {
                throw new ConfigurationException("invalid log archive namespace '" + namespace
                        + "': lower-case letters, digits, '-' and '_', and not one of " + RESERVED);
            }
            return new DefaultLogArchive(repo.storage(), repo.sealer(), codec != null ? codec : repo.compression(), namespace);
        }

        private static final List<String> RESERVED = List.of("config", "keys", "data", "index", "snapshots", "locks", "records", "jobs");
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
