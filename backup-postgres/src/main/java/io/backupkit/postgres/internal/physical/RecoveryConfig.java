package io.backupkit.postgres.internal.physical;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Turns a restored data directory into one that performs archive recovery on a plain {@code pg_ctl
 * start}: {@code recovery.signal}, and the recovery settings appended to {@code postgresql.auto.conf}
 * (read after postgresql.conf, so they win). A leftover {@code standby.signal} (a backup of a standby)
 * is removed: this is a point-in-time restore, not a new standby.
 */
public final class RecoveryConfig {
    public static final String BEGIN = "# --- backupkit restore: recovery settings (remove this block once the server has promoted) ---";
    public static final String END = "# --- end of backupkit recovery settings ---";

    private RecoveryConfig() {
    }

    /** Appends {@code settings} to postgresql.auto.conf and creates recovery.signal; returns what was written. */
    public static String write(Path pgdata, Map<String, String> settings, String comment) throws IOException {
        StringBuilder sb = new StringBuilder("\n").append(BEGIN).append('\n');
        for (String line : comment.split("\n")) {
            sb.append("# ").append(line).append('\n');
        }
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(quote(v)).append('\n'));
        sb.append(END).append('\n');
        Path auto = pgdata.resolve("postgresql.auto.conf");
        Files.writeString(auto, sb.toString(), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        Files.deleteIfExists(pgdata.resolve("standby.signal"));
        Path signal = pgdata.resolve("recovery.signal");
        if (!Files.exists(signal)) {
            Files.createFile(signal);
        }
        return sb.toString();
    }

    /** A configuration-file string literal: single quotes, embedded quotes doubled. */
    public static String quote(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'";
    }
}
