package io.backupkit.postgres.testing;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * A PostgreSQL server a test can use: {@link EphemeralPostgres} (local binaries) or
 * {@link ContainerPostgres} (Testcontainers). Gives connection details per database and a few
 * helpers to set up data.
 *
 * <pre>{@code
 * try (PostgresServer pg = EphemeralPostgres.start()) {
 *     pg.createDatabase("shop");
 *     pg.execute("shop", "CREATE TABLE t (id int primary key)");
 *     String url = pg.jdbcUrl("shop");
 * }
 * }</pre>
 */
public interface PostgresServer extends AutoCloseable {

    /** Host to connect to (127.0.0.1 for ephemeral clusters). */
    String host();

    int port();

    /** Superuser name. */
    String user();

    /** Superuser password; a test fixture's own, never a production secret. */
    String password();

    /** Major version of the server (15, 16, …). */
    int majorVersion();

    /** Directory of client tools (pg_dump, pg_restore, psql) matching the server, if known locally. */
    Optional<Path> binDirectory();

    /** {@code jdbc:postgresql://host:port/db}, without credentials. */
    default String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    /** libpq URI {@code postgresql://host:port/db}, without credentials. */
    default String uri(String database) {
        return "postgresql://" + host() + ":" + port() + "/" + urlEncode(database);
    }

    /** A new JDBC connection as the superuser; the caller closes it. */
    default Connection connect(String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user());
        p.setProperty("password", password());
        p.setProperty("ApplicationName", "backupkit-test");
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** Runs SQL (one or several statements) in {@code database}. */
    default void execute(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed in database " + database + ": " + e.getMessage(), e);
        }
    }

    /** Runs a query and returns every row as a list of column strings (NULL as null). */
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

    /** First column of the first row, or null when there is none. */
    default String queryForString(String database, String sql) {
        List<List<String>> rows = query(database, sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /** Creates an empty database. */
    default void createDatabase(String name) {
        execute("postgres", "CREATE DATABASE " + quoteIdent(name));
    }

    /** Creates a database as a file copy of {@code template} (which must have no connections). */
    default void createDatabaseFromTemplate(String name, String template) {
        execute("postgres", "CREATE DATABASE " + quoteIdent(name) + " TEMPLATE " + quoteIdent(template)
                + (majorVersion() >= 15 ? " STRATEGY FILE_COPY" : ""));
    }

    /** Drops a database if it exists, ending its connections. */
    default void dropDatabase(String name) {
        execute("postgres", "DROP DATABASE IF EXISTS " + quoteIdent(name) + " WITH (FORCE)");
    }

    default boolean databaseExists(String name) {
        return !query("postgres", "SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'").isEmpty();
    }

    /** Stops the server and removes what it created; never throws. */
    @Override
    void close();

    static String quoteIdent(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static String urlEncode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }
}
