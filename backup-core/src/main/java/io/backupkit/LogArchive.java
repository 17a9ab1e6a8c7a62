package io.backupkit;

import io.backupkit.internal.log.DefaultLogArchive;
import io.backupkit.spi.CompressionCodec;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An engine-neutral archive of write-once, sealed log objects inside a {@link Repository}:
 * PostgreSQL WAL segments and timeline history files today, MySQL/MariaDB binary logs later. Each
 * object lives under the archive's own prefix ({@code <namespace>/<name>}), is compressed and
 * sealed like every other repository object, with its full name bound in as associated data, so an
 * object that was renamed, swapped with another or cut short is detected when read.
 *
 * <p>Write-once: {@link #put} of a name that exists with the same content succeeds
 * ({@link LogPutResult.Status#ALREADY_PRESENT}), because archivers retry; the same name with
 * different content is a {@link LogConflictException}. A put returns only once the object is
 * durable in the storage. Objects are never replaced; they are only deleted (by retention).
 *
 * <p>Thread-safe; share one per repository and namespace.
 *
 * <pre>{@code
 * LogArchive wal = LogArchive.open(repository, "wal");
 * wal.put("7312…/00000001/000000010000000000000003", Path.of("pg_wal/000000010000000000000003"), Map.of());
 * for (LogObject o : wal.list("7312…/00000001/")) { … }        // names and sizes, nothing downloaded
 * wal.read("7312…/00000001/000000010000000000000003", out);      // verified content
 * }</pre>
 */
public interface LogArchive {

    /** The archive of {@code namespace} ("wal", "binlog") in {@code repository}, with the repository's codec. */
    static LogArchive open(Repository repository, String namespace) {
        return builder().repository(repository).namespace(namespace).build();
    }

    static Builder builder() {
        return DefaultLogArchive.builder();
    }

    /** The namespace, e.g. {@code wal}; objects are stored as {@code <namespace>/<name>}. */
    String namespace();

    /** Where the repository lives, without credentials (for messages). */
    String location();

    /**
     * Stores {@code file} under {@code name} unless an object of that name exists.
     *
     * @param attributes small engine metadata kept in the object's sealed header (≤ 16 KiB in all)
     * @return {@link LogPutResult.Status#STORED} once durable, or {@link LogPutResult.Status#ALREADY_PRESENT}
     *         when the same content is there already
     * @throws LogConflictException when an object of that name holds different content
     * @throws StorageException     when the storage fails; nothing is acknowledged then
     */
    LogPutResult put(String name, Path file, Map<String, String> attributes);

    /** As {@link #put(String, Path, Map)}, for content in memory. */
    LogPutResult put(String name, byte[] content, Map<String, String> attributes);

    /** Whether an object of that name exists (one storage request, nothing downloaded). */
    boolean exists(String name);

    /**
     * The object's sealed header: content length and SHA-256, attributes, creation time. Reads only
     * the first bytes of the object.
     *
     * @return empty when there is no such object
     * @throws IntegrityException when the header does not authenticate (damaged, renamed or swapped)
     */
    Optional<LogObjectInfo> info(String name);

    /**
     * Writes the object's content to {@code out}, each piece authenticated before it is written;
     * the content's length and SHA-256 are checked against the header at the end.
     *
     * @return the number of bytes written
     * @throws ObjectNotFoundException when there is no such object
     * @throws IntegrityException      when any check fails (bytes already written must then be discarded)
     */
    long read(String name, OutputStream out);

    /** The verified content as a stream (see {@link #read(String, OutputStream)}); the caller closes it. */
    InputStream open(String name);

    /** The whole content in memory; for small objects (history files, records). */
    byte[] readAllBytes(String name);

    /**
     * The objects whose name starts with {@code prefix} ("" for all), sorted by name. Nothing is
     * downloaded: names, stored sizes and times come from the storage listing.
     */
    List<LogObject> list(String prefix);

    /** Removes an object (retention); removing a missing object is not an error. */
    void delete(String name);

    /** Removes several objects; returns how many names were given. */
    int delete(Collection<String> names);

    /** Configures a {@link LogArchive}. */
    interface Builder {
        Builder repository(Repository repository);

        /** Top-level prefix: letters, digits, '-' and '_' (e.g. "wal", "binlog"). */
        Builder namespace(String namespace);

        /** Codec for new objects; default the repository's codec. */
        Builder compression(CompressionCodec codec);

        LogArchive build();
    }
}
