package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where a PostgreSQL database is and how to reach it, parsed from a JDBC URL
 * ({@code jdbc:postgresql://host:port/db?sslmode=…}) or a libpq URI ({@code postgresql://user@host/db}).
 * Knows the password but never prints it: {@link #toString()}, {@link #describe()} and the libpq
 * connection string leave it out; child processes get it through PGPASSWORD only.
 */
public final class PgConnectionConfig {
    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final char[] password;
    private final Map<String, String> params;
    /** Where the tools reach the server when they run elsewhere than this JVM (in a pod); null: host and port. */
    private final String toolHost;
    private final int toolPort;

    private PgConnectionConfig(String host, int port, String database, String user, char[] password, Map<String, String> params) {
        this(host, port, database, user, password, params, null, 0);
    }

    private PgConnectionConfig(String host, int port, String database, String user, char[] password, Map<String, String> params,
                               String toolHost, int toolPort) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password == null ? null : password.clone();
        // insertion order: the URL and connection strings keep the parameters in the order they were given (Map.copyOf scrambles it per JVM)
        this.params = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params));
        this.toolHost = toolHost;
        this.toolPort = toolPort;
    }

    /** Whether {@code url} looks like a PostgreSQL URL this class parses. */
    public static boolean isPostgresUrl(String url) {
        if (url == null) {
            return false;
        }
        String l = url.toLowerCase(Locale.ROOT);
        return l.startsWith("jdbc:postgresql:") || l.startsWith("postgresql://") || l.startsWith("postgres://");
    }

    /**
     * {@link #parse(String) Parses} {@code url} and applies what a builder set over it: each non-null
     * argument wins over the URL's (the one place every source/target builder turns its settings into a
     * connection).
     */
    public static PgConnectionConfig of(String url, String user, char[] password, String sslMode, Path sslRootCert) {
        PgConnectionConfig c = parse(url);
        if (user != null) {
            c = c.withUser(user);
        }
        if (password != null) {
            c = c.withPassword(password);
        }
        if (sslMode != null) {
            c = c.withParam("sslmode", sslMode);
        }
        if (sslRootCert != null) {
            c = c.withParam("sslrootcert", sslRootCert.toString());
        }
        return c;
    }

    public static PgConnectionConfig parse(String url) {
        if (!isPostgresUrl(url)) {
            throw new ConfigurationException("not a PostgreSQL URL: " + redact(url)
                    + " (expected jdbc:postgresql://host:port/db, postgresql://host:port/db or postgres://host:port/db)");
        }
        String rest;
        boolean jdbc = url.regionMatches(true, 0, "jdbc:", 0, 5);
        if (jdbc) {
            rest = url.substring("jdbc:postgresql:".length());
            if (!rest.startsWith("//")) {
                // jdbc:postgresql:database form: local host, default port
                rest = "//localhost/" + rest;
            }
            rest = rest.substring(2);
        } else {
            rest = url.substring(url.indexOf("://") + 3);
        }
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String authority = rest;
        String path = "";
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            authority = rest.substring(0, slash);
            path = rest.substring(slash + 1);
        }
        String user = null;
        char[] password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = userInfo.indexOf(':');
            if (colon >= 0) {
                user = decode(userInfo.substring(0, colon));
                password = decode(userInfo.substring(colon + 1)).toCharArray();
            } else {
                user = decode(userInfo);
            }
        }
        if (authority.contains(",")) {
            throw new ConfigurationException("several hosts in one URL are not supported: " + redact(url) + "; give one host");
        }
        String host = authority;
        int port = 5432;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            if (end < 0) {
                throw new ConfigurationException("unclosed '[' in the host of " + redact(url));
            }
            String after = host.substring(end + 1);
            host = host.substring(1, end);
            if (after.startsWith(":")) {
                port = parsePort(after.substring(1), url);
            }
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0) {
                port = parsePort(host.substring(colon + 1), url);
                host = host.substring(0, colon);
            }
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            switch (k) {
                case "user" -> user = v;
                case "password" -> password = v.toCharArray();
                case "host" -> host = v;
                case "port" -> port = parsePort(v, url);
                case "dbname" -> path = v;
                default -> params.put(k, v);
            }
        }
        if (host.isEmpty()) {
            host = "localhost";
        }
        String database = decode(path);
        if (database.isEmpty()) {
            database = user != null ? user : "postgres";
        }
        return new PgConnectionConfig(host, port, database, user, password, params);
    }

    public PgConnectionConfig withDatabase(String db) {
        return new PgConnectionConfig(host, port, db, user, password, params, toolHost, toolPort);
    }

    public PgConnectionConfig withUser(String u) {
        return new PgConnectionConfig(host, port, database, u, password, params, toolHost, toolPort);
    }

    public PgConnectionConfig withPassword(char[] pw) {
        return new PgConnectionConfig(host, port, database, user, pw, params, toolHost, toolPort);
    }

    /**
     * The address the client tools (pg_dump, psql, pg_restore) use, when they run somewhere else than
     * this JVM: inside the database pod they reach the server at localhost:5432 while JDBC goes
     * through a port-forward at the URL's address.
     */
    public PgConnectionConfig withToolAddress(String host, int port) {
        return new PgConnectionConfig(this.host, this.port, database, user, password, params, host, port);
    }

    public PgConnectionConfig withParam(String key, String value) {
        Map<String, String> p = new LinkedHashMap<>(params);
        if (value == null) {
            p.remove(key);
        } else {
            p.put(key, value);
        }
        return new PgConnectionConfig(host, port, database, user, password, p, toolHost, toolPort);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String database() {
        return database;
    }

    public String user() {
        return user;
    }

    public boolean hasPassword() {
        return password != null;
    }

    /** The password for PGPASSWORD or the JDBC driver; callers must not log it. */
    public String passwordForChildEnvironment() {
        return password == null ? null : new String(password);
    }

    public Map<String, String> params() {
        return params;
    }

    /** JDBC URL without credentials. */
    public String jdbcUrl() {
        StringBuilder sb = new StringBuilder("jdbc:postgresql://").append(host.contains(":") ? "[" + host + "]" : host)
                .append(':').append(port).append('/').append(encode(database));
        String sep = "?";
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getKey().equals("application_name")) {
                continue;
            }
            sb.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
            sep = "&";
        }
        return sb.toString();
    }

    /** Properties for the JDBC driver, including the password. */
    public Properties jdbcProperties(String applicationName) {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", new String(password));
        }
        p.setProperty("ApplicationName", applicationName);
        return p;
    }

    /**
     * A libpq keyword/value connection string for {@code -d}, without the password (that goes
     * through PGPASSWORD), so it can appear on a command line.
     */
    public String libpqConnectionString(String applicationName) {
        return libpqConnectionString(applicationName, Map.of());
    }

    /** {@link #libpqConnectionString(String)} with more keywords (for example {@code client_encoding}) that win over the URL's. */
    public String libpqConnectionString(String applicationName, Map<String, String> extra) {
        Map<String, String> kv = new LinkedHashMap<>();
        kv.put("host", toolHost != null ? toolHost : host);
        kv.put("port", Integer.toString(toolHost != null ? toolPort : port));
        kv.put("dbname", database);
        if (user != null) {
            kv.put("user", user);
        }
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (LIBPQ_KEYS.contains(e.getKey())) {
                kv.put(e.getKey(), e.getValue());
            }
        }
        kv.put("application_name", applicationName);
        kv.putAll(extra);
        StringBuilder sb = new StringBuilder();
        kv.forEach((k, v) -> {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(k).append("='").append(v.replace("\\", "\\\\").replace("'", "\\'")).append('\'');
        });
        return sb.toString();
    }

    private static final java.util.Set<String> LIBPQ_KEYS = java.util.Set.of("sslmode", "sslrootcert", "sslcert", "sslkey",
            "connect_timeout", "options", "target_session_attrs", "gssencmode", "sslcrl");

    /** user@host:port/database, for messages. */
    public String describe() {
        return (user == null ? "" : user + "@") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return "postgresql://" + describe();
    }

    /** The URL with any password replaced, for error messages about a URL that did not parse. */
    public static String redact(String url) {
        if (url == null) {
            return "null";
        }
        String r = url.replaceAll("(?i)(password=)[^&]*", "$1***");
        return r.replaceAll("(://[^/@:]*:)[^/@]*@", "$1***@");
    }

    private static int parsePort(String s, String url) {
        try {
            int p = Integer.parseInt(s);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new ConfigurationException("invalid port '" + s + "' in " + redact(url));
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
