package io.backupkit.cli;

import io.backupkit.StorageException;
import io.backupkit.examples.InMemoryStorage;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.spi.StorageProvider;

import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code failclose://NAME}: an in-memory storage whose {@code close()} throws, the way a storage with
 * a stuck connection pool might. Commands then fail after their work is done, in the closing of a
 * try-with-resources, which is where a second JSON document used to come from.
 */
public final class FailingCloseStorageProvider implements StorageProvider {
    private static final Map<String, InMemoryStorage> STORAGES = new ConcurrentHashMap<>();

    @Override
    public Set<String> schemes() {
        return Set.of("failclose");
    }

    @Override
    public Storage open(URI uri) {
        return new FailingClose(STORAGES.computeIfAbsent(uri.getAuthority(), InMemoryStorage::new));
    }

    private record FailingClose(Storage delegate) implements Storage {
        @Override
        public String location() {
            return "failclose://" + delegate.location();
        }

        @Override
        public boolean putIfAbsent(String name, Payload payload) {
            return delegate.putIfAbsent(name, payload);
        }

        @Override
        public InputStream get(String name) {
            return delegate.get(name);
        }

        @Override
        public InputStream get(String name, long offset, long length) {
            return delegate.get(name, offset, length);
        }

        @Override
        public Optional<ObjectInfo> stat(String name) {
            return delegate.stat(name);
        }

        @Override
        public List<ObjectInfo> list(String prefix) {
            return delegate.list(prefix);
        }

        @Override
        public void delete(String name) {
            delegate.delete(name);
        }

        @Override
        public void close() {
            throw new StorageException("closing " + location() + " failed: connection pool did not shut down", true);
        }
    }
}
