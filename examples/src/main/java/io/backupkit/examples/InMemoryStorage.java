package io.backupkit.examples;

import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * A {@link Storage} that keeps objects in memory: the smallest complete storage plug-in, for tests
 * and for reading as an example. It passes backup-core's {@code StorageContractTest}.
 *
 * <pre>{@code
 * try (Repository repo = Repository.builder()
 *         .storage(new InMemoryStorage("scratch"))
 *         .unencrypted()
 *         .create()) { … }
 * }</pre>
 *
 * <p>Registered through {@link InMemoryStorageProvider} for {@code mem://NAME} locations.
 */
public final class InMemoryStorage implements Storage {
    private record Entry(byte[] bytes, Instant modified) {
    }

    private final String name;
    private final ConcurrentMap<String, Entry> objects = new ConcurrentHashMap<>();

    public InMemoryStorage(String name) {
        this.name = name;
    }

    @Override
    public String location() {
        return "mem://" + name;
    }

    @Override
    public boolean putIfAbsent(String objectName, Payload payload) {
        byte[] bytes;
        try (InputStream in = payload.open()) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new StorageException("cannot read payload for " + objectName + ": " + e.getMessage(), true, e);
        }
        if (bytes.length != payload.length()) {
            throw new StorageException("payload for " + objectName + " gave " + bytes.length + " bytes, expected "
                    + payload.length(), false);
        }
        // putIfAbsent on the map is the atomic "create only if new" that the contract asks for
        return objects.putIfAbsent(objectName, new Entry(bytes, Instant.now())) == null;
    }

    /** True: a put copies the payload (it reads it through {@link Payload#open()}) and keeps the copy. */
    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return true;
    }

    @Override
    public InputStream get(String objectName) {
        return new ByteArrayInputStream(entry(objectName).bytes());
    }

    @Override
    public InputStream get(String objectName, long offset, long length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("negative range " + offset + "+" + length);
        }
        byte[] bytes = entry(objectName).bytes();
        if (offset + length > bytes.length) {
            throw new StorageException("range " + offset + "+" + length + " beyond end of " + objectName + " ("
                    + bytes.length + " bytes) in " + location(), false);
        }
        return new ByteArrayInputStream(bytes, (int) offset, (int) length);
    }

    private Entry entry(String objectName) {
        Entry e = objects.get(objectName);
        if (e == null) {
            throw new ObjectNotFoundException(location(), objectName);
        }
        return e;
    }

    @Override
    public Optional<ObjectInfo> stat(String objectName) {
        Entry e = objects.get(objectName);
        return e == null ? Optional.empty() : Optional.of(new ObjectInfo(objectName, e.bytes().length, e.modified()));
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        List<ObjectInfo> result = new ArrayList<>();
        objects.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                result.add(new ObjectInfo(k, v.bytes().length, v.modified()));
            }
        });
        return result;
    }

    @Override
    public void delete(String objectName) {
        objects.remove(objectName);
    }

    /** Bytes held, all objects. */
    public long size() {
        return objects.values().stream().mapToLong(e -> e.bytes().length).sum();
    }

    @Override
    public void close() {
        // the objects stay: another handle on the same mem:// name sees them
    }

    @Override
    public String toString() {
        return "InMemoryStorage[" + name + ", " + objects.size() + " objects]";
    }
}
