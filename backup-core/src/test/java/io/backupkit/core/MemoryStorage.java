package io.backupkit.core;

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
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** Objects in a sorted map, for campaigns that open thousands of repositories; lists in name order. */
final class MemoryStorage implements Storage {
    private final Map<String, byte[]> objects = new TreeMap<>();

    MemoryStorage() {
    }

    /** A copy of every object of {@code source}. */
    static MemoryStorage copyOf(Storage source) {
        MemoryStorage m = new MemoryStorage();
        for (ObjectInfo o : source.list("")) {
            m.objects.put(o.name(), source.readAll(o.name()));
        }
        return m;
    }

    synchronized void put(String name, byte[] bytes) {
        objects.put(name, bytes.clone());
    }

    synchronized byte[] bytes(String name) {
        byte[] b = objects.get(name);
        return b == null ? null : b.clone();
    }

    @Override
    public String location() {
        return "memory:";
    }

    @Override
    public synchronized boolean putIfAbsent(String name, Payload payload) {
        if (objects.containsKey(name)) {
            return false;
        }
        try (InputStream in = payload.open()) {
            objects.put(name, in.readAllBytes());
        } catch (IOException e) {
            throw new StorageException("cannot read payload for " + name, false, e);
        }
        return true;
    }

    /** True: a put keeps a copy of the payload. */
    @Override
    public boolean readsPayloadOnlyDuringPut() {
        return true;
    }

    @Override
    public synchronized InputStream get(String name) {
        byte[] b = objects.get(name);
        if (b == null) {
            throw new ObjectNotFoundException(location(), name);
        }
        return new ByteArrayInputStream(b);
    }

    @Override
    public synchronized InputStream get(String name, long offset, long length) {
        byte[] b = objects.get(name);
        if (b == null) {
            throw new ObjectNotFoundException(location(), name);
        }
        int from = (int) Math.min(b.length, Math.max(0, offset));
        int n = (int) Math.min(b.length - from, Math.max(0, length));
        return new ByteArrayInputStream(b, from, n);
    }

    @Override
    public synchronized Optional<ObjectInfo> stat(String name) {
        byte[] b = objects.get(name);
        return b == null ? Optional.empty() : Optional.of(new ObjectInfo(name, b.length, Instant.EPOCH));
    }

    @Override
    public synchronized List<ObjectInfo> list(String prefix) {
        List<ObjectInfo> out = new ArrayList<>();
        objects.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.add(new ObjectInfo(k, v.length, Instant.EPOCH));
            }
        });
        return out;
    }

    @Override
    public synchronized void delete(String name) {
        objects.remove(name);
    }

    @Override
    public void close() {
    }
}
