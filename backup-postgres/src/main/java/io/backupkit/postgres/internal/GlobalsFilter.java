package io.backupkit.postgres.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps the roles that already exist on a restore target as they are: drops from a
 * {@code pg_dumpall --globals-only} script every statement that would change one of them (its
 * {@code CREATE ROLE}, which would only fail, its {@code ALTER ROLE} attributes and settings, its
 * comment and security labels, and memberships granted to it). Everything else (new roles, their
 * memberships, tablespaces, session settings, psql meta-commands) passes unchanged.
 *
 * <p>Statements are split the way psql splits them: at a semicolon outside single-quoted literals
 * and double-quoted identifiers (a role comment may span lines); comment lines and meta-commands
 * ({@code \restrict}) end at their line's end.
 */
public final class GlobalsFilter {
    private static final String IDENT = "(\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*)";
    private static final Pattern ROLE_STATEMENT = Pattern.compile(
            "(?s)(?:CREATE ROLE|ALTER ROLE|COMMENT ON ROLE|SECURITY LABEL FOR \\S+ ON ROLE)\\s+" + IDENT + "(?:\\s.*|;)?");
    /** A role membership (no ON: privileges on tablespaces etc. are GRANT … ON … TO). */
    private static final Pattern MEMBERSHIP = Pattern.compile("(?s)GRANT\\s+(?:(?!\\sON\\s).)+?\\s+TO\\s+" + IDENT + "(?:\\s.*|;)");

    /** The script without the statements that change a role in {@code existing}, and what was left out. */
    public record Result(String script, Set<String> keptRoles, int skippedStatements) {
    }

    private GlobalsFilter() {
    }

    public static Result keepExistingRoles(String script, Set<String> existing) {
        StringBuilder out = new StringBuilder(script.length());
        Set<String> kept = new TreeSet<>();
        int skipped = 0;
        for (String statement : split(script)) {
            String role = affectedRole(statement.strip());
            if (role != null && existing.contains(role)) {
                kept.add(role);
                skipped++;
                String body = statement.strip();
                out.append(statement, 0, statement.indexOf(body.charAt(0)))
                        // the statement itself is not echoed: an ALTER ROLE may carry a password hash
                        .append("-- backupkit: role exists on the target and is kept as it is; a statement changing it was left out\n");
                continue;
            }
            out.append(statement);
        }
        return new Result(out.toString(), kept, skipped);
    }

    /** The role a statement creates or changes, unquoted; null for anything else. */
    static String affectedRole(String statement) {
        String upper = statement.toUpperCase(Locale.ROOT);
        Matcher m = null;
        if (upper.startsWith("CREATE ROLE") || upper.startsWith("ALTER ROLE") || upper.startsWith("COMMENT ON ROLE")
                || upper.startsWith("SECURITY LABEL")) {
            m = ROLE_STATEMENT.matcher(statement);
        } else if (upper.startsWith("GRANT")) {
            m = MEMBERSHIP.matcher(statement);
        }
        if (m == null || !m.matches()) {
            return null;
        }
        return unquote(m.group(1));
    }

    static String unquote(String ident) {
        return ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }

    /**
     * Pieces of the script that concatenate back to it exactly: each SQL statement with the whitespace
     * before it, each comment or meta-command line, and trailing whitespace.
     */
    static List<String> split(String script) {
        List<String> pieces = new ArrayList<>();
        int start = 0;
        int i = 0;
        int n = script.length();
        while (i < n) {
            // skip whitespace to the next piece's first character
            int first = i;
            while (first < n && Character.isWhitespace(script.charAt(first))) {
                first++;
            }
            if (first >= n) {
                break;
            }
            if (script.startsWith("--", first) || script.charAt(first) == '\\') {
                int eol = script.indexOf('\n', first);
                i = eol < 0 ? n : eol + 1;
            } else {
                char quote = 0;
                int j = first;
                for (; j < n; j++) {
                    char c = script.charAt(j);
                    if (quote != 0) {
                        if (c == quote) {
                            if (j + 1 < n && script.charAt(j + 1) == quote) {
                                j++; // doubled quote inside
                            } else {
                                quote = 0;
                            }
                        }
                    } else if (c == '\'' || c == '"') {
                        quote = c;
                    } else if (c == ';') {
                        break;
                    } else if (c == '-' && j + 1 < n && script.charAt(j + 1) == '-') {
                        int eol = script.indexOf('\n', j);
                        j = eol < 0 ? n - 1 : eol;
                    }
                }
                i = Math.min(n, j + 1);
                // the rest of the statement's line (its newline) belongs to it
                if (i < n && script.charAt(i) == '\n') {
                    i++;
                }
            }
            pieces.add(script.substring(start, i));
            start = i;
        }
        if (start < n) {
            pieces.add(script.substring(start));
        }
        return pieces;
    }
}
