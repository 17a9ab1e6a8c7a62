package io.backupkit.ops.internal;

import java.net.InetAddress;

/** This host's name for records and events. */
public final class Hosts {
    private static volatile String name;

    private Hosts() {
    }

    public static String name() {
        String n = name;
        if (n == null) {
            n = System.getenv("HOSTNAME");
            if (n == null || n.isBlank()) {
                try {
                    n = InetAddress.getLocalHost().getHostName();
                } catch (Exception e) {
                    n = "unknown-host";
                }
            }
            name = n;
        }
        return n;
    }
}
