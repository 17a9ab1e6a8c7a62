package io.backupkit;

import java.time.Instant;

/**
 * A key slot as listed by {@link Repository.Keys#list()}.
 *
 * @param id      object id in {@code keys/}
 * @param type    provider type ("password", "keyfile", "aws-kms")
 * @param created when the slot was added
 * @param host    the host that added it
 * @param current true for the slot that opened this repository handle
 */
public record KeySlotInfo(String id, String type, Instant created, String host, boolean current) {
}
