package io.backupkit.s3;

/**
 * How {@link S3Storage} keeps {@code putIfAbsent} from replacing an existing object.
 *
 * <pre>{@code
 * S3Storage.builder().bucket("b").conditionalWrites(ConditionalWrites.HEAD_BEFORE_PUT) // old MinIO, …
 * }</pre>
 */
public enum ConditionalWrites {
    /**
     * Every write carries {@code If-None-Match: *} (on PutObject and on CompleteMultipartUpload), and
     * the store refuses it atomically when the name exists. AWS S3 (since 2024), S3Proxy, recent MinIO
     * and Ceph support it. This is the default; lock objects are only safe with it. A store that
     * answers the header with 501 Not Implemented makes the storage switch to {@link #HEAD_BEFORE_PUT}
     * with a warning.
     */
    IF_NONE_MATCH,
    /**
     * For stores that ignore the header: ask with HEAD whether the name exists, then write without a
     * condition. Two writers racing for the same name may both see it missing and both write; the later
     * one replaces the earlier. Content-addressed packs, indexes and snapshots are harmless under that
     * race (same name means same content or a random id); repository locks are not exclusive then.
     */
    HEAD_BEFORE_PUT
}
