package io.backupkit.mysql.testing;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * A MySQL or MariaDB server a test can use: where it listens and a superuser's credentials, plus
 * small helpers to run SQL. {@link EphemeralMariaDb} starts one from local binaries.
 *
 * <pre>{@code
 * try (EphemeralMariaDb db = EphemeralMariaDb.start()) {
 *     db.createDatabase("shop");
 *     db.execute("shop", "CREATE TABLE t (id int PRIMARY KEY)");
 *     String url = db.uri("shop");          // mariadb://127.0.0.1:PORT/shop
 * }
 * }</pre>
 */
public interface MySqlServer extends AutoCloseable {

    String host();

    int port();

    /** Superuser name. */
    String user();

    /** Superuser password; a test fixture's own, never a production secret. */
    String password();

    /** {@code SELECT VERSION()}, e.g. "10.11.19-MariaDB-0+deb12u1-log". */
    String version();

    /** JDBC URL (MariaDB Connector/J) of {@code database}; null or "" for no default database. */
    default String jdbcUrl(String database) {
        return "jdbc:mariadb://" + host() + ":" + port() + "/" + (database == null ? "" : database)
                + "?allowMultiQueries=true&permitMysqlScheme=true";
    }

    /** backupkit URL of {@code database} ({@code mariadb://host:port/db}), or of the whole server when null. */
    default String uri(String database) {
        return "mariadb://" + host() + ":" + port() + "/" + (database == null ? "" : java.net.URLEncoder.encode(database,
                StandardCharsets.UTF_8).replace("+", "%20"));
    }

    /** A new JDBC connection as the superuser (several statements per execute allowed); the caller closes it. */
    default Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user());
        p.setProperty("password", password());
        p.setProperty("allowLocalInfile", "true");
        Connection c = new org.mariadb.jdbc.Driver().connect(jdbcUrl(database), p);
        if (c == null) {
            throw new SQLException("driver refused " + jdbcUrl(database));
        }
        return c;
    }

    /** Runs SQL (several statements separated by ';' allowed, also routine bodies). */
    default void execute(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed in database " + database + ": " + e.getMessage(), e);
        }
    }

    /** Rows of a query, values as strings (NULL as null). */
    default List<List<String>> query(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            List<List<String>> rows = new ArrayList<>();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("query failed in database " + database + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row, or null. */
    default String queryForString(String database, String sql) {
        List<List<String>> rows = query(database, sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /** Creates an empty database (utf8mb4). */
    default void createDatabase(String name) {
        execute(null, "CREATE DATABASE " + quoteIdent(name) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    }

    /** Drops a database if it exists. */
    default void dropDatabase(String name) {
        execute(null, "DROP DATABASE IF EXISTS " + quoteIdent(name));
    }

    default boolean databaseExists(String name) {
        return !query(null, "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '"
                + name.replace("\\", "\\\\").replace("'", "''") + "'").isEmpty();
    }

    /** Stops the server and removes what it created; never throws. */
    @Override
    void close();

    static String quoteIdent(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
