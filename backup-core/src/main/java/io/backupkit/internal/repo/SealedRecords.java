package io.backupkit.internal.repo;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@link Repository.Records} as {@code records/<name>} = seal(content, "backupkit v1 record " + name).
 * The name is in the associated data so that a record copied or renamed by someone who can write
 * the storage (a claim replayed for another tick, a drill result moved to another job) fails to open.
 */
final class SealedRecords implements Repository.Records {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private static final int MAX_NAME = 240;

    private final Storage storage;
    private final Sealer sealer;

    SealedRecords(Storage storage, Sealer sealer) {
        this.storage = storage;
        this.sealer = sealer;
    }

    static String checkName(String name) {
        if (name == null || name.length() > MAX_NAME || !NAME.matcher(name).matches()
                || name.equals(".") || name.contains("/./") || name.startsWith("./") || name.endsWith("/.")
                || name.equals("..") || name.contains("/../") || name.startsWith("../") || name.endsWith("/..")) {
            throw new ConfigurationException("invalid record name '" + name + "': use '/'-separated segments of "
                    + "letters, digits, '.', '_' and '-' (at most " + MAX_NAME + " characters)");
        }
        return name;
    }

    private static byte[] ad(String name) {
        return (Formats.AD_RECORD_PREFIX + name).getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public boolean create(String name, byte[] content) {
        checkName(name);
        if (!storage.atomicPutIfAbsent()) {
            // records keep writers apart (job leases, tick claims): "false, someone was first" must be true
            throw new ConfigurationException("cannot create record " + name + " in " + storage.location() + ": the store does not"
                    + " refuse to overwrite existing objects (it ignores If-None-Match), so two writers could both believe they"
                    + " created it; use a store with conditional writes (AWS S3, S3Proxy, recent MinIO or Ceph)");
        }
        return storage.putIfAbsent(Formats.RECORDS + name, Payload.of(sealer.seal(content, ad(name))));
    }

    @Override
    public Optional<byte[]> read(String name) {
        checkName(name);
        String object = Formats.RECORDS + name;
        byte[] stored;
        try {
            stored = storage.readAll(object);
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
        return Optional.of(sealer.open(stored, ad(name)).orElseThrow(() -> new IntegrityException(object,
                "record fails authentication: it was altered, damaged or moved from another name")));
    }

    @Override
    public List<String> list(String prefix) {
        if (!prefix.isEmpty() && !NAME.matcher(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix).matches()) {
            checkName(prefix);
        }
        return storage.list(Formats.RECORDS + prefix).stream().map(ObjectInfo::name)
                .map(n -> n.substring(Formats.RECORDS.length())).toList();
    }

    @Override
    public void delete(String name) {
        checkName(name);
        storage.delete(Formats.RECORDS + name);
    }
}
