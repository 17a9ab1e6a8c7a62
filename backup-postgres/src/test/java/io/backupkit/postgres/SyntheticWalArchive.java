package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.wal.WalNames;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * A repository under a temporary directory whose WAL archive holds synthetic segments and timeline
 * histories of one cluster ({@link #SYSID}, 1 MiB segments), and base-backup metadata to check against
 * it: for tests of what a base backup can replay, without a server.
 */
final class SyntheticWalArchive implements AutoCloseable {
    static final long SYSID = 7312345678901234567L;
    static final long SEG = FakeWal.SEGMENT_SIZE;

    final Repository repo;
    final WalArchive wal;
    private final Path pgWal;

    SyntheticWalArchive(Path dir) {
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
        wal = WalArchive.builder().repository(repo).systemId(SYSID).build();
        pgWal = dir.resolve("pg_wal");
    }

    /** Archives these segment numbers of {@code timeline}. */
    void archive(int timeline, long... segments) {
        for (long s : segments) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, timeline, s));
        }
    }

    /** Archives {@code timeline}'s history file with this content. */
    void history(int timeline, String content) {
        wal.push(FakeWal.write(pgWal, WalNames.historyName(timeline), content.getBytes(StandardCharsets.UTF_8)));
    }

    /** The LSN at {@code offset} into segment number {@code segment}. */
    static Lsn at(long segment, long offset) {
        return new Lsn(segment * SEG + offset);
    }

    /** A low-level base backup of {@link #SYSID} on {@code timeline}, from {@code start} to {@code stop}. */
    static PhysicalMetadata base(int timeline, Lsn start, Lsn stop, boolean walIncluded) {
        return new PhysicalMetadata("low-level", Long.toUnsignedString(SYSID), timeline, start, stop, start,
                WalNames.segmentOf(timeline, start, SEG), WalNames.segmentOf(timeline, stop, SEG), Instant.EPOCH, Instant.EPOCH, "15.14",
                150014, SEG, List.of(), walIncluded, "postgres", 131072, "", 0, 0);
    }

    @Override
    public void close() {
        repo.close();
    }
}
