package io.backupkit.mysql.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Names of a MySQL snapshot's streams: {@code schema/<db>}, {@code data/<db>/<table>} and
 * {@code users}. Database and table names may hold any character, so '%', '/' and control
 * characters in them are percent-encoded (UTF-8); everything else stays readable.
 */
public final class StreamNames {
    public static final String USERS = "users";

    private StreamNames() {
    }

    public static String schema(String db) {
        return "schema/" + encode(db);
    }

    public static String data(String db, String table) {
        return "data/" + encode(db) + "/" + encode(table);
    }

    static String encode(String name) {
        StringBuilder sb = new StringBuilder();
        name.codePoints().forEach(cp -> {
            if (cp == '%' || cp == '/' || cp < 0x20 || cp == 0x7f) {
                sb.append(String.format("%%%02X", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    static String decode(String encoded) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = encoded.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i++) {
            if (b[i] == '%' && i + 2 < b.length) {
                out.write(Integer.parseInt(new String(b, i + 1, 2, StandardCharsets.US_ASCII), 16));
                i += 2;
            } else {
                out.write(b[i]);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
