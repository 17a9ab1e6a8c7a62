package io.backupkit.mysql.internal;

import io.backupkit.ConfigurationException;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Where a MySQL or MariaDB server is and how to reach it, parsed from {@code mysql://user@host:port/db},
 * {@code mariadb://…} or a JDBC URL ({@code jdbc:mysql://…}, {@code jdbc:mariadb://…}). No database
 * means the whole server. Knows the password but never prints it: {@link #toString()} and
 * {@link #describe()} leave it out; child processes get it through {@code MYSQL_PWD} only.
 */
public final class MySqlConnectionConfig {
    public static final int DEFAULT_PORT = 3306;
    private static final java.sql.Driver DRIVER = new org.mariadb.jdbc.Driver();

    private final String host;
    private final int port;
    private final String database;
    private final String user;
    private final char[] password;
    private final Map<String, String> params;

    private MySqlConnectionConfig(String host, int port, String database, String user, char[] password, Map<String, String> params) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.user = user;
        this.password = password == null ? null : password.clone();
        // insertion order: the JDBC URL keeps the parameters in the order given (Map.copyOf's order changes per JVM)
        this.params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** Whether {@code url} is a MySQL/MariaDB URL this class parses. */
    public static boolean isMySqlUrl(String url) {
        if (url == null) {
            return false;
        }
        String l = url.toLowerCase(Locale.ROOT);
        return l.startsWith("mysql://") || l.startsWith("mariadb://") || l.startsWith("jdbc:mysql://") || l.startsWith("jdbc:mariadb://");
    }

    public static MySqlConnectionConfig parse(String url) {
        if (!isMySqlUrl(url)) {
            throw new ConfigurationException("not a MySQL/MariaDB URL: " + redact(url)
                    + " (expected mysql://user@host:port/db, mariadb://user@host:port/db, or without /db for the whole server)");
        }
        String rest = url.substring(url.indexOf("://") + 3);
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
        int port = DEFAULT_PORT;
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
                default -> params.put(k, v);
            }
        }
        if (host.isEmpty()) {
            host = "localhost";
        }
        if (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.contains("/")) {
            throw new ConfigurationException("a MySQL URL names one database (write a '/' in its name as %2F): " + redact(url));
        }
        String database = decode(path);
        return new MySqlConnectionConfig(host, port, database.isEmpty() ? null : database, user, password, params);
    }

    public MySqlConnectionConfig withDatabase(String db) {
        return new MySqlConnectionConfig(host, port, db, user, password, params);
    }

    public MySqlConnectionConfig withUser(String u) {
        return new MySqlConnectionConfig(host, port, database, u, password, params);
    }

    public MySqlConnectionConfig withPassword(char[] pw) {
        return new MySqlConnectionConfig(host, port, database, user, pw, params);
    }

    public MySqlConnectionConfig withParam(String key, String value) {
        Map<String, String> p = new LinkedHashMap<>(params);
        if (value == null) {
            p.remove(key);
        } else {
            p.put(key, value);
        }
        return new MySqlConnectionConfig(host, port, database, user, password, p);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The database, or null for the whole server. */
    public String database() {
        return database;
    }

    public String user() {
        return user;
    }

    public boolean hasPassword() {
        return password != null;
    }

    /** The password for MYSQL_PWD or the JDBC driver; callers must not log it. */
    public String passwordForChildEnvironment() {
        return password == null ? null : new String(password);
    }

    public Map<String, String> params() {
        return params;
    }

    /** JDBC URL (MariaDB Connector/J) without credentials and without a database: sessions choose it themselves. */
    public String jdbcUrl() {
        StringBuilder sb = new StringBuilder("jdbc:mariadb://").append(host.contains(":") ? "[" + host + "]" : host)
                .append(':').append(port).append('/');
        String sep = "?";
        for (Map.Entry<String, String> e : params.entrySet()) {
            sb.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
            sep = "&";
        }
        return sb.toString();
    }

    /**
     * Opens a session. Raw bytes everywhere: results are not converted from the columns' character
     * sets; the session time zone is UTC so TIMESTAMP values are read and written unchanged.
     */
    public Connection connect(String purpose) throws SQLException {
        Properties p = new Properties();
        if (user != null) {
            p.setProperty("user", user);
        }
        if (password != null) {
            p.setProperty("password", new String(password));
        }
        p.setProperty("connectionAttributes", "program_name:backupkit," + "purpose:" + purpose.replace(',', ' ').replace(':', ' '));
        p.setProperty("allowLocalInfile", "true");
        p.setProperty("connectTimeout", "30000");
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("useServerPrepStmts", "false");
        // the driver class directly: DriverManager would pick another MySQL driver on the class path
        Connection c = DRIVER.connect(jdbcUrl(), p);
        if (c == null) {
            throw new SQLException("MariaDB Connector/J refused the URL " + jdbcUrl());
        }
        return c;
    }

    /** "db1.example.com:3306/shop" or "db1.example.com:3306 (all databases)"; no credentials. */
    public String describe() {
        return (user == null ? "" : user + "@") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port
                + (database == null ? " (all databases)" : "/" + database);
    }

    /** Where, without user and database: "db1:3306". */
    public String server() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return "MySqlConnectionConfig[" + describe() + "]";
    }

    /** The URL with any password replaced by "***". */
    public static String redact(String url) {
        if (url == null) {
            return "";
        }
        String r = url.replaceAll("(://[^/@:]*:)[^/@]*@", "$1***@");
        return r.replaceAll("(?i)([?&]password=)[^&]*", "$1***");
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
