package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.KeyProviders;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;

/** Small helpers shared by core tests. */
final class Repos {
    static final char[] PASSWORD = "correct horse battery staple".toCharArray();

    private Repos() {
    }

    /** A password provider at the OWASP floor for Argon2id (19 MiB, 2 passes): the cheapest backupkit accepts. */
    static KeyProvider password(char[] pw) {
        return KeyProviders.password(pw, 19 * 1024, 2, 1);
    }

    static Repository.Builder encrypted(Storage storage) {
        return Repository.builder().storage(storage).keyProvider(password(PASSWORD));
    }

    static BackupResult backup(Repository repo, GeneratedSource source) {
        return BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup();
    }

    static DigestTarget restore(Repository repo, String snapshot) {
        DigestTarget target = new DigestTarget();
        RestoreManager.builder().repository(repo).snapshot(snapshot).target(target).parallelism(2).build().restore();
        return target;
    }
}
