package io.backupkit.mysql.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * A database made for one test by {@link MariaDbDatabaseExtension}; dropped after the test.
 *
 * @param server the server it lives on
 * @param name   its name
 */
public record TestDatabase(MySqlServer server, String name) {

    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    /** backupkit URL ({@code mariadb://host:port/name}). */
    public String uri() {
        return server.uri(name);
    }

    public String user() {
        return server.user();
    }

    public String password() {
        return server.password();
    }

    public Connection connect() throws SQLException {
        return server.connect(name);
    }

    public void execute(String sql) {
        server.execute(name, sql);
    }

    public String queryForString(String sql) {
        return server.queryForString(name, sql);
    }

    public List<List<String>> query(String sql) {
        return server.query(name, sql);
    }
}
