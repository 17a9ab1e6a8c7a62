package io.backupkit.mysql.internal;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.backupkit.EngineException;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static io.backupkit.mysql.internal.Sessions.literal;

/**
 * User accounts, roles and their grants, read with SHOW CREATE USER / SHOW GRANTS (never from the
 * grant tables, whose layout differs between versions and flavours). Restoring creates the accounts
 * the target lacks and applies their grants; accounts the target already has are left alone.
 */
public final class UserAccounts {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(UserAccounts.class);
    /** ER_PASSWORD_NO_MATCH: "Can't find any matching row in the user table". */
    private static final int NO_MATCHING_ROW = 1133;

    /**
     * One account.
     *
     * @param user   user or role name
     * @param host   host part ("" for a role)
     * @param role   whether it is a role (MariaDB)
     * @param create the statement that creates it
     * @param grants its GRANT statements (and MariaDB's SET DEFAULT ROLE)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Account(String user, String host, boolean role, String create, List<String> grants) {
        public Account {
            grants = List.copyOf(grants);
        }

        /** 'user'@'host', or 'role'. */
        public String display() {
            return role ? literal(user) : literal(user) + "@" + literal(host);
        }
    }

    private UserAccounts() {
    }

    /** Every non-system account of the server, roles first. */
    public static List<Account> read(Connection c, ServerVersion v) throws SQLException {
        String q = v.isMariaDb() ? "SELECT User, Host, is_role FROM mysql.user ORDER BY is_role DESC, User, Host"
                : "SELECT User, Host, 'N' FROM mysql.user ORDER BY User, Host";
        List<List<String>> rows;
        try {
            rows = Sessions.query(c, q);
        } catch (SQLException e) {
            throw new io.backupkit.ConfigurationException("cannot list user accounts: the backup user needs SELECT on mysql.user "
                    + "to back up users and grants (" + e.getMessage() + ")", e);
        }
        List<Account> out = new ArrayList<>();
        for (List<String> r : rows) {
            String user = r.get(0);
            String host = r.get(1) == null ? "" : r.get(1);
            boolean role = "Y".equalsIgnoreCase(r.get(2));
            if (ServerVersion.isSystemAccount(user, host) || (user.isEmpty() && !role)) {
                continue;
            }
            String account = role ? literal(user) : literal(user) + "@" + literal(host);
            String create;
            List<String> grants = new ArrayList<>();
            try {
                create = role ? "CREATE ROLE " + Sessions.quote(user) : Sessions.queryForString(c, "SHOW CREATE USER " + account);
                for (List<String> g : Sessions.query(c, "SHOW GRANTS FOR " + account)) {
                    grants.add(g.get(0));
                }
            } catch (SQLException e) {
                if (Sessions.errorCode(e) == NO_MATCHING_ROW) {
                    // an account the server ignores (a host name under skip-name-resolve): it cannot log in, so it is skipped
                    LOG.warn("user account {} is ignored by the server ({}); not backed up", account, e.getMessage());
                    continue;
                }
                throw e;
            }
            if (create == null) {
                throw new EngineException("SHOW CREATE USER " + account + " returned nothing");
            }
            out.add(new Account(user, host, role, create, grants));
        }
        return out;
    }

    /** Whether the account exists on the server {@code c} is connected to. */
    public static boolean exists(Connection c, Account a) throws SQLException {
        return !Sessions.query(c, "SELECT 1 FROM mysql.user WHERE User = " + literal(a.user()) + " AND Host = " + literal(a.host())).isEmpty();
    }

    /**
     * Creates the accounts the server lacks, then applies their grants (roles first so grants of roles
     * to users find them). Returns what was done, one line per account.
     */
    public static List<String> restore(Connection c, List<Account> accounts) throws SQLException {
        List<String> done = new ArrayList<>();
        List<Account> created = new ArrayList<>();
        for (Account a : accounts) {
            if (exists(c, a)) {
                done.add("account " + a.display() + " exists on the target: left unchanged");
                continue;
            }
            Sessions.execute(c, a.create());
            created.add(a);
            done.add("created " + (a.role() ? "role " : "user ") + a.display());
        }
        for (Account a : created) {
            for (String g : a.grants()) {
                String upper = g.toUpperCase(Locale.ROOT);
                // a user's own "GRANT USAGE … IDENTIFIED BY PASSWORD" line repeats what CREATE USER did
                if (upper.startsWith("GRANT USAGE ON *.* TO") && !upper.contains("WITH")) {
                    continue;
                }
                Sessions.execute(c, g);
            }
        }
        return done;
    }
}
