package io.backupkit.internal.repo;

import java.time.Instant;

/**
 * The repository's {@code config} object (JSON inside a sealed envelope).
 *
 * @param version     format version, 1
 * @param id          repository id, 32 hex digits
 * @param encryption  "aes-256-gcm" or "none"
 * @param chunker     FastCDC parameters
 * @param compression default codec name and level for new blobs
 * @param packSize    target pack size in bytes
 * @param created     creation time
 */
public record RepoConfig(int version, String id, String encryption, Chunker chunker, Compression compression,
                         int packSize, Instant created) {

    /** FastCDC parameters; the gear table is derived from {@code seed}. */
    public record Chunker(String algorithm, int min, int avg, int max, int normalization, long seed) {
    }

    public record Compression(String codec, int level) {
    }
}
