package io.backupkit.redis.internal;

/** Redis server versions, the RDB versions they write and read, and what backupkit needs. */
public final class RedisVersions {
    /** Oldest server backupkit backs up or restores into: {@code RESTORE … ABSTTL} and diskless replication need 5.0. */
    public static final int MIN_MAJOR = 5;

    private RedisVersions() {
    }

    /** {major, minor, patch} of "7.0.15"; missing parts are 0. */
    public static int[] parse(String version) {
        int[] v = new int[3];
        String[] parts = version.trim().split("\\.");
        for (int i = 0; i < Math.min(3, parts.length); i++) {
            try {
                v[i] = Integer.parseInt(parts[i].replaceAll("[^0-9].*", ""));
            } catch (NumberFormatException e) {
                v[i] = 0;
            }
        }
        return v;
    }

    /**
     * The newest RDB version a server of this version writes and loads (Redis {@code RDB_VERSION}):
     * 2.6–3.0: 6, 3.2: 7, 4.0: 8, 5.0–6.2: 9, 7.0: 10, 7.2: 11, 7.4 and 8.x: 12.
     */
    public static int rdbVersion(String redisVersion) {
        int[] v = parse(redisVersion);
        int mm = v[0] * 100 + v[1];
        if (mm >= 704) {
            return 12;
        }
        if (mm >= 702) {
            return 11;
        }
        if (mm >= 700) {
            return 10;
        }
        if (mm >= 500) {
            return 9;
        }
        if (mm >= 400) {
            return 8;
        }
        if (mm >= 302) {
            return 7;
        }
        return 6;
    }

    public static boolean supported(String redisVersion) {
        return parse(redisVersion)[0] >= MIN_MAJOR;
    }

    /** Whether the server knows {@code REPLCONF rdb-only} (7.0+): it then sends the RDB and nothing after it. */
    public static boolean hasRdbOnly(String redisVersion) {
        return parse(redisVersion)[0] >= 7;
    }

    /** Whether the server has {@code PEXPIRETIME} (7.0+). */
    public static boolean hasPexpiretime(String redisVersion) {
        return parse(redisVersion)[0] >= 7;
    }
}
