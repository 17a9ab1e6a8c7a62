package io.backupkit.spi;

import java.net.URI;
import java.util.Set;

/**
 * Opens {@link Storage} for URIs of some schemes ({@code file}, {@code s3}, …). Found through
 * {@link java.util.ServiceLoader}; a storage given explicitly to a builder always wins.
 */
public interface StorageProvider {

    /** URI schemes this provider opens, lower case. */
    Set<String> schemes();

    /**
     * Opens storage at {@code uri}.
     *
     * @throws io.backupkit.ConfigurationException when the URI is malformed or incomplete
     */
    Storage open(URI uri);
}
