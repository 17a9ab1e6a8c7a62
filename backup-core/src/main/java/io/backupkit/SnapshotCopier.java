package io.backupkit;

import io.backupkit.internal.pipeline.CopyRun;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Copies snapshots from one repository to another (local to S3, one bucket to another). The copy has the
 * same time, host, source, tags and metadata, and records the source snapshot's id, so copying again
 * skips it. Streams go through the destination's own chunking, so they deduplicate against everything
 * the destination holds: blobs already there are not uploaded again, and a stream whose content the
 * destination already has (same size and a digest of the same kind, {@link SnapshotStream#digest()}) is not
 * even read from the source. Each copied stream is checked against the size and digest the source recorded
 * as it is read; the copy records a digest of the destination's own kind.
 *
 * <pre>{@code
 * try (Repository local = …open(); Repository s3 = …openOrCreate()) {
 *     CopyResult r = SnapshotCopier.builder().source(local).destination(s3).build().copy();
 * }
 * }</pre>
 */
public final class SnapshotCopier {
    private final Repository source;
    private final Repository destination;
    private final List<String> snapshots;
    private final int parallelism;

    private SnapshotCopier(Builder b) {
        this.source = Objects.requireNonNull(b.source, "source is required");
        this.destination = Objects.requireNonNull(b.destination, "destination is required");
        this.snapshots = List.copyOf(b.snapshots);
        this.parallelism = b.parallelism;
        if (source.id().equals(destination.id()) && source.location().equals(destination.location())) {
            throw new ConfigurationException("source and destination are the same repository (" + source.location() + ")");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Copies the chosen snapshots (all, when none were chosen) that the destination does not have yet. */
    public CopyResult copy() {
        return new CopyRun(source, destination, snapshots, parallelism).run();
    }

    /** Configures a {@link SnapshotCopier}. */
    public static final class Builder {
        private Repository source;
        private Repository destination;
        private final List<String> snapshots = new ArrayList<>();
        private int parallelism = 2;

        private Builder() {
        }

        public Builder source(Repository source) {
            this.source = source;
            return this;
        }

        public Builder destination(Repository destination) {
            this.destination = destination;
            return this;
        }

        /** A snapshot to copy (id, prefix or "latest"); several calls add more; none: every snapshot. */
        public Builder snapshot(String idPrefixOrLatest) {
            this.snapshots.add(Objects.requireNonNull(idPrefixOrLatest));
            return this;
        }

        public Builder parallelism(int n) {
            if (n < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + n);
            }
            this.parallelism = n;
            return this;
        }

        public SnapshotCopier build() {
            return new SnapshotCopier(this);
        }
    }
}
