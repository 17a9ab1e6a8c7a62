package io.backupkit.redis.internal;

import io.backupkit.ConfigurationException;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * {@code redis://[USER@]HOST[:PORT]} (port 6379 by default). The password never goes into the URL: it
 * comes from the engine option {@code password} (CLI: {@code $BACKUPKIT_DB_PASSWORD} or
 * {@code --db-password-file}).
 */
public record RedisUrl(String user, String host, int port) {
    public static final int DEFAULT_PORT = 6379;

    public static boolean isRedisUrl(String url) {
        if (url == null) {
            return false;
        }
        String l = url.toLowerCase(Locale.ROOT);
        return l.startsWith("redis://") || l.startsWith("rediss://");
    }

    public static RedisUrl parse(String url) {
        if (!isRedisUrl(url)) {
            throw new ConfigurationException("not a Redis URL: use redis://[USER@]HOST:PORT");
        }
        if (url.toLowerCase(Locale.ROOT).startsWith("rediss://")) {
            throw new ConfigurationException("rediss:// (TLS) is not supported yet; use redis://[USER@]HOST:PORT over a trusted network "
                    + "or a TLS tunnel");
        }
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new ConfigurationException("Redis URL is not valid (" + e.getReason() + "); use redis://[USER@]HOST:PORT");
        }
        String host = u.getHost();
        if (host == null || host.isEmpty()) {
            throw new ConfigurationException("Redis URL names no host; use redis://[USER@]HOST:PORT");
        }
        String user = null;
        String info = u.getRawUserInfo();
        if (info != null) {
            if (info.contains(":")) {
                // never echo the URL: it holds a password
                throw new ConfigurationException("the Redis URL contains a password; give only the user in the URL "
                        + "(redis://USER@HOST:PORT) and the password through the password option ($BACKUPKIT_DB_PASSWORD or --db-password-file)");
            }
            user = URLDecoder.decode(info, StandardCharsets.UTF_8);
            if (user.isEmpty()) {
                user = null;
            }
        }
        String path = u.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/")) {
            throw new ConfigurationException("a Redis URL names the whole instance (every logical database); remove '" + path
                    + "' from redis://" + host + (u.getPort() > 0 ? ":" + u.getPort() : ""));
        }
        if (u.getRawQuery() != null) {
            throw new ConfigurationException("a Redis URL takes no parameters; pass options with -o KEY=VALUE or the builder");
        }
        return new RedisUrl(user, host, u.getPort() > 0 ? u.getPort() : DEFAULT_PORT);
    }

    /** For messages and manifests: {@code redis://user@host:port}, never a password. */
    @Override
    public String toString() {
        return "redis://" + (user == null ? "" : user + "@") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
