package io.backupkit.internal;

import java.io.IOException;
import java.net.InetAddress;

/** The host name recorded in snapshots, key slots and locks. */
public final class HostName {
    private HostName() {
    }

    /** {@code $HOSTNAME} when set (containers set it to the pod name), else the resolver's name. */
    public static String get() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
