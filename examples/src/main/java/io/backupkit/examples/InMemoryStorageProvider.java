package io.backupkit.examples;

import io.backupkit.ConfigurationException;
import io.backupkit.spi.StorageProvider;
import io.backupkit.spi.Storage;

import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Opens {@code mem://NAME} locations as {@link InMemoryStorage}: a storage plug-in found through
 * {@link java.util.ServiceLoader} (see {@code META-INF/services/io.backupkit.spi.StorageProvider}).
 * Storages with the same name share their objects for the lifetime of the JVM.
 *
 * <pre>{@code
 * Repository repo = Repository.builder().location("mem://tests").unencrypted().openOrCreate();
 * }</pre>
 */
public final class InMemoryStorageProvider implements StorageProvider {
    private static final ConcurrentMap<String, InMemoryStorage> STORAGES = new ConcurrentHashMap<>();

    @Override
    public Set<String> schemes() {
        return Set.of("mem");
    }

    @Override
    public Storage open(URI uri) {
        String name = uri.getAuthority();
        if (name == null || name.isBlank()) {
            throw new ConfigurationException("in-memory storage location needs a name: mem://NAME, was " + uri);
        }
        return STORAGES.computeIfAbsent(name, InMemoryStorage::new);
    }
}
