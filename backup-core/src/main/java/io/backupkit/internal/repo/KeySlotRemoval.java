package io.backupkit.internal.repo;

import io.backupkit.ConfigurationException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Json;
import io.backupkit.internal.LocalProcess;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Removes a key slot so that no interleaving of removers, and no remover killed at any point (SIGKILL,
 * power loss), leaves a repository without a usable slot, and no leftover blocks removals for good.
 *
 * <p>Storage has no transactions and no conditional delete, and a mutex object needs a lease that a
 * paused holder can outlive. Instead each remover first <em>announces</em> the slot it is about to delete
 * (an object under {@link #PREFIX}), then lists the announcements, then lists the slots, and deletes only
 * when a usable slot is left that nobody announced. Of any set of removers that delete, the one that
 * listed announcements last saw every other's announcement (each wrote it before its own listing), so
 * the slot it counted is deleted by none of them. A remover killed after announcing leaves an
 * announcement: it only makes others more careful (its slot does not count), never less; it stops
 * counting once its writer is known dead (same host, process gone) or once it is older than
 * {@link #STALE_AFTER} by the storage's clock, while every remover gives up before deleting when more
 * than {@link #DEADLINE} passed since it announced. Nothing is ever put back, so nothing depends on a
 * process living long enough to do so.
 */
final class KeySlotRemoval {
    /** Announcements: {@code keys-removal/<slot id>.<16 random hex>}; outside {@code keys/}, which holds only slots. */
    static final String PREFIX = "keys-removal/";
    /** A remover that needed longer than this from announcing to deleting gives up (deletes nothing). */
    static final Duration DEADLINE = Duration.ofSeconds(30);
    /** An announcement this much older (storage clock) than one's own is left over: its writer gave up or died. */
    static final Duration STALE_AFTER = Duration.ofMinutes(2);
    /**
     * An announcement of a process of this host that is gone stops counting after this much (storage clock):
     * a delete it sent just before it died may still be on its way to a remote store.
     */
    static final Duration DEAD_WRITER_GRACE = Duration.ofSeconds(5);
    private static final Logger LOG = LoggerFactory.getLogger(KeySlotRemoval.class);

    /** What an announcement holds; it is plain JSON (like key slots), names no secret. */
    record Announcement(int version, String slot, String host, long pid, Instant processStart) {
    }

    private final Storage storage;
    private final String location;
    /** Usable slots of this repository other than the one given (see DefaultRepository#usableSlots). */
    private final Function<String, List<String>> usableOthers;

    KeySlotRemoval(Storage storage, String location, Function<String, List<String>> usableOthers) {
        this.storage = storage;
        this.location = location;
        this.usableOthers = usableOthers;
    }

    /** Deletes {@code target} (a {@code keys/…} name) unless that would leave no usable slot. */
    void remove(String target) {
        String shortId = Formats.idOf(target).substring(0, 8);
        String last = "key slot " + shortId + " is the last one of this repository; add another before removing it, "
                + "or the repository cannot be opened again";
        if (usableOthers.apply(target).isEmpty()) {
            throw new ConfigurationException(last);
        }
        long started = System.nanoTime();
        String own = PREFIX + Formats.idOf(target) + "." + Hashes.hex(Aead.randomBytes(8));
        storage.putIfAbsent(own, Payload.of(encode(new Announcement(1, target, HostName.get(), ProcessHandle.current().pid(),
                LocalProcess.currentStart().orElse(null)))));
        try {
            // announcements first, slots second: the order the proof above needs
            Set<String> announced = new HashSet<>();
            List<String> running = new ArrayList<>();
            for (Other o : others(own)) {
                if (o.slot() == null) {
                    running.add(o.describe());
                    announced.add(null);
                } else if (!o.slot().equals(target)) {
                    announced.add(o.slot());
                    running.add(o.describe());
                }
            }
            if (announced.contains(null)) {
                throw new ConfigurationException("cannot remove key slot " + shortId + " now: " + running.get(0)
                        + "; retry when it has finished");
            }
            List<String> usable = new ArrayList<>(usableOthers.apply(target));
            usable.removeAll(announced);
            if (usable.isEmpty()) {
                throw new ConfigurationException(last + (running.isEmpty() ? "" : " once the removal" + (running.size() > 1 ? "s" : "")
                        + " running at the same time (" + String.join("; ", running) + ") finish" + (running.size() > 1 ? "" : "es")
                        + "; nothing was removed"));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            if (took.compareTo(DEADLINE) > 0) {
                // past this, another remover may already treat our announcement as left over
                throw new ConfigurationException("removing key slot " + shortId + " took " + took.toSeconds() + " s from announcing "
                        + "it to deleting it (the limit is " + DEADLINE.toSeconds() + " s); nothing was removed, try again");
            }
            storage.delete(target);
        } finally {
            try {
                storage.delete(own);
            } catch (RuntimeException e) {
                // harmless: it only makes other removals more careful until it goes stale
                LOG.warn("could not remove the announcement {} in {}: {}", own, location, e.getMessage());
            }
        }
    }

    /** Another remover's announcement that still counts. */
    private record Other(String name, String slot, Announcement content) {
        String describe() {
            return content == null ? "an unreadable announcement " + name
                    : "removal of key slot " + (slot == null ? "?" : Formats.idOf(slot).substring(0, 8)) + " by " + content.host()
                    + " pid " + content.pid();
        }
    }

    /**
     * The announcements of other removers that still count; left-over ones (writer gone, or older than
     * {@link #STALE_AFTER}) are deleted on the way.
     */
    private List<Other> others(String own) {
        List<ObjectInfo> all = storage.list(PREFIX);
        Instant now = all.stream().filter(o -> o.name().equals(own)).map(ObjectInfo::modified).findFirst().orElse(null);
        List<Other> out = new ArrayList<>();
        for (ObjectInfo o : all) {
            if (o.name().equals(own)) {
                continue;
            }
            Announcement a;
            try {
                a = decode(storage.readAll(o.name()));
            } catch (ObjectNotFoundException gone) {
                continue;
            } catch (RuntimeException unreadable) {
                a = null;
            }
            Duration age = now == null || o.modified() == null ? null : Duration.between(o.modified(), now);
            boolean stale = age != null && age.compareTo(STALE_AFTER) > 0;
            if (!stale && a != null && age != null && age.compareTo(DEAD_WRITER_GRACE) > 0
                    && LocalProcess.gone(a.host(), a.pid(), a.processStart())) {
                stale = true;
            }
            if (stale) {
                LOG.info("removing the left-over announcement {} ({}) in {}", o.name(),
                        a == null ? "unreadable" : "removal by " + a.host() + " pid " + a.pid(), location);
                try {
                    storage.delete(o.name());
                } catch (RuntimeException e) {
                    LOG.warn("could not remove the left-over announcement {}: {}", o.name(), e.getMessage());
                }
                continue;
            }
            String slot = slotOf(o.name());
            if (a != null && a.slot() != null && !a.slot().equals(slot)) {
                slot = null; // name and content disagree: trust neither
            }
            out.add(new Other(o.name(), slot, a));
        }
        return out;
    }

    /** The {@code keys/…} slot an announcement names, or null when the name is not one this code writes. */
    static String slotOf(String announcement) {
        String rest = announcement.substring(PREFIX.length());
        return rest.matches("[0-9a-f]{64}\\.[0-9a-f]{16}") ? Formats.KEYS + rest.substring(0, 64) : null;
    }

    private static byte[] encode(Announcement a) {
        try {
            return Json.MAPPER.writeValueAsBytes(a);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Announcement decode(byte[] bytes) {
        if (bytes.length > 4096) {
            throw new IllegalArgumentException("too large");
        }
        try {
            return Json.MAPPER.readValue(bytes, Announcement.class);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
