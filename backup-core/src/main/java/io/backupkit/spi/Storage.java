package io.backupkit.spi;

import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where a repository's objects live: a flat namespace of immutable objects with '/'-separated names.
 * Five operations, like restic's backends; retry, rate limits and fault injection are decorators
 * around this interface, not options inside it. Every implementation must pass the
 * {@code StorageContractTest} published in backup-core's test jar.
 *
 * <p>Implementations are thread-safe. Failures are {@link StorageException}s; a missing object is an
 * {@link ObjectNotFoundException}.
 */
public interface Storage extends AutoCloseable {

    /** Where this storage points, for messages and logs; never contains credentials. */
    String location();

    /**
     * Writes {@code payload} under {@code name} unless an object of that name exists. The write is
     * atomic: readers see the whole object or none of it, also after a crash.
     *
     * @return true if written, false if an object with that name already existed (nothing changed)
     */
    boolean putIfAbsent(String name, Payload payload);

    /**
     * Writes {@code payload} under a name nobody else writes: one the caller chose at random (a lock
     * object's 128 random bits), so no other writer can race for it and an existing object of that name
     * is not expected. The write is as atomic as {@link #putIfAbsent}, and still does not replace an
     * existing object where the store refuses that by itself; but the storage may skip checks that only
     * keep two writers of one name apart (S3: the one-time probe whether the store honours
     * {@code If-None-Match}, three requests). Never use it for content-addressed or fixed names, whose
     * {@code false} result matters.
     *
     * @return as {@link #putIfAbsent}; by default it is {@link #putIfAbsent}
     */
    default boolean putNew(String name, Payload payload) {
        return putIfAbsent(name, payload);
    }

    /**
     * Whether {@link #putIfAbsent} is atomic against concurrent writers: when two processes write the
     * same new name at once, exactly one gets {@code true} and the object is that one's. Exclusive
     * repository locks (and anything else that must keep two writers apart by a name) need it and
     * are refused where it is false. A storage that cannot promise it (an S3-compatible store that
     * ignores {@code If-None-Match}) returns false; it may find out by asking the store.
     *
     * @return true by default: local disks and most stores create names atomically
     */
    default boolean atomicPutIfAbsent() {
        return true;
    }

    /**
     * Whether {@link #putIfAbsent} and {@link #putNew} are done with a payload when they return, normally or
     * by throwing: they read its bytes only during the call (retries and parallel parts included) and keep
     * no reference to it or its array afterwards, so the caller may then overwrite the array. A backup then
     * fills its next pack in the buffer of the pack just stored instead of allocating one per pack (up to
     * 18 MiB each, garbage that outlives young collections).
     *
     * <p>False by default, because {@link Payload#of(byte[], int, int)} lets a storage keep the array as it
     * is (an in-memory storage that files it away, one that uploads in the background after returning):
     * such a storage gets a new buffer for every pack. A decorator answers what its delegate does, unless it
     * keeps payloads itself. {@code StorageContractTest} checks a storage that answers true.
     *
     * <pre>{@code
     * public boolean readsPayloadOnlyDuringPut() {
     *     return true; // writes the bytes before returning and keeps no reference
     * }
     * }</pre>
     */
    default boolean readsPayloadOnlyDuringPut() {
        return false;
    }

    /** Opens the whole object. */
    InputStream get(String name);

    /** Opens {@code length} bytes of the object starting at {@code offset}. */
    InputStream get(String name, long offset, long length);

    /** Size and time of an object, or empty when it does not exist. */
    Optional<ObjectInfo> stat(String name);

    /** All objects whose name starts with {@code prefix} (use "" for everything), in no fixed order. */
    List<ObjectInfo> list(String prefix);

    /** Removes an object; removing a missing object is not an error. */
    void delete(String name);

    /** Removes several objects; storages that can, do it in batches. */
    default void delete(Collection<String> names) {
        for (String name : names) {
            delete(name);
        }
    }

    /** Reads a whole object into memory; for small objects (config, keys, index, snapshots). */
    default byte[] readAll(String name) {
        try (InputStream in = get(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new StorageException("reading " + name + " from " + location() + " failed: " + e.getMessage(), true, e);
        } catch (UncheckedIOException e) {
            throw new StorageException("reading " + name + " from " + location() + " failed: " + e.getMessage(), true, e);
        }
    }

    /** Releases connections and threads; throws nothing. */
    @Override
    void close();
}
