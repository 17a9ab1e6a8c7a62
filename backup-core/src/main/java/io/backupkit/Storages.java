package io.backupkit;

import io.backupkit.spi.Storage;
import io.backupkit.spi.StorageProvider;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Opens storage from a location string: a plain path or {@code file:} URI gives {@link LocalStorage};
 * other schemes ({@code s3://…}) go to the {@link StorageProvider} found on the class path that
 * handles them.
 */
public final class Storages {
    private Storages() {
    }

    public static Storage open(String location) {
        if (location == null || location.isBlank()) {
            throw new ConfigurationException("repository location is empty");
        }
        int colon = location.indexOf(':');
        boolean uri = colon > 1 && location.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*");
        if (!uri) {
            return LocalStorage.of(Path.of(location));
        }
        String scheme = location.substring(0, colon).toLowerCase(Locale.ROOT);
        if (scheme.equals("file")) {
            return LocalStorage.of(Path.of(URI.create(location)));
        }
        URI parsed;
        try {
            parsed = URI.create(location);
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException("repository location is not a valid URI: " + redact(location));
        }
        List<StorageProvider> matches = new ArrayList<>();
        for (StorageProvider p : ServiceLoader.load(StorageProvider.class, Storages.class.getClassLoader())) {
            if (p.schemes().contains(scheme)) {
                matches.add(p);
            }
        }
        if (matches.isEmpty()) {
            throw new ConfigurationException("no storage provider for '" + scheme + ":' locations on the class path"
                    + (scheme.equals("s3") ? "; add the io.backupkit:backup-s3 module" : ""));
        }
        if (matches.size() > 1) {
            throw new ConfigurationException("several storage providers handle '" + scheme + ":' ("
                    + matches.stream().map(m -> m.getClass().getName()).toList()
                    + "); give the storage explicitly with Repository.builder().storage(…)");
        }
        return matches.get(0).open(parsed);
    }

    /** The location with any user-info or secret query parameters removed, for messages. */
    public static String redact(String location) {
        return location.replaceAll("//[^/@]*@", "//***@")
                .replaceAll("(?i)((secret|password|token|key)[^=&]*=)[^&]*", "$1***");
    }
}
