package io.backupkit.postgres.internal.physical;

import io.backupkit.Repository;
import io.backupkit.postgres.WalArchive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The program behind a restored cluster's generated {@code restore_command} (see
 * {@link RestoreCommandInstaller}): {@code WalFetchMain HELPER_DIR NAME DEST} fetches one WAL file of
 * the cluster from the repository named in the helper directory, opened with the key file there.
 * It needs no picocli and no CLI jar, so an embedding service's restore works the same.
 *
 * <p>Exit codes: 0 found, {@value #NOT_FOUND} not archived, 2 usage, 3 any other failure. The shell
 * wrapper turns {@value #NOT_FOUND} into 1 (PostgreSQL's "not found") and everything else into 126,
 * because a JVM that cannot start also exits 1, and PostgreSQL takes any exit code up to 125 for "not
 * found" and would end recovery early; above 125 it stops and tells the operator.
 */
public final class WalFetchMain {
    public static final int NOT_FOUND = 100;

    private WalFetchMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length != 3) {
            System.err.println("usage: WalFetchMain HELPER_DIR WAL_FILE_NAME DESTINATION");
            return 2;
        }
        Path helper = Path.of(args[0]);
        try {
            String location = Files.readString(helper.resolve(RestoreCommandInstaller.LOCATION_FILE), StandardCharsets.UTF_8).strip();
            long systemId = Long.parseUnsignedLong(Files.readString(helper.resolve(RestoreCommandInstaller.SYSTEM_ID_FILE)).strip());
            Repository.Builder b = Repository.builder().location(location);
            Path key = helper.resolve(RestoreCommandInstaller.KEY_FILE);
            if (Files.exists(key)) {
                b.keyFile(key);
            }
            try (Repository repo = b.open()) {
                WalArchive.FetchResult r = WalArchive.builder().repository(repo).systemId(systemId).build()
                        .fetch(args[1], Path.of(args[2]));
                return r.found() ? 0 : NOT_FOUND;
            }
        } catch (IOException e) {
            System.err.println("backupkit restore_command: cannot read " + helper + ": " + e.getMessage());
            return 3;
        } catch (RuntimeException e) {
            System.err.println("backupkit restore_command: fetching " + args[1] + " failed: " + e.getMessage());
            return 3;
        }
    }
}
