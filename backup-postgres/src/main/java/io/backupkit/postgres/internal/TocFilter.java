package io.backupkit.postgres.internal;

import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Filters a pg_restore table of contents ({@code pg_restore -l}) down to a set of tables: their
 * definitions, data, owned sequences, defaults, constraints, indexes, triggers, policies, comments
 * and grants, plus every object that belongs to no table (schemas, types, functions, extensions,
 * large objects). Views, materialized views and foreign keys to tables left out are dropped,
 * because they could reference what is not restored.
 */
public final class TocFilter {
    private static final Pattern ENTRY = Pattern.compile("^(\\d+); (\\d+) (\\d+) (.*)$");
    /** pg_restore -l entry descriptions, longest first so "TABLE DATA" wins over "TABLE". */
    private static final List<String> DESCS = List.of("ACCESS METHOD", "ACL", "AGGREGATE", "BLOB METADATA", "BLOBS", "BLOB",
                    "CAST", "CHECK CONSTRAINT", "COLLATION", "COMMENT", "CONSTRAINT", "CONVERSION", "DATABASE PROPERTIES", "DATABASE",
                    "DEFAULT ACL", "DEFAULT", "DOMAIN", "ENCODING", "EVENT TRIGGER", "EXTENSION", "FK CONSTRAINT",
                    "FOREIGN DATA WRAPPER", "FOREIGN SERVER", "FOREIGN TABLE", "FUNCTION", "INDEX ATTACH", "INDEX",
                    "LARGE OBJECT", "MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "OPERATOR CLASS", "OPERATOR FAMILY", "OPERATOR",
                    "POLICY", "PROCEDURAL LANGUAGE", "PROCEDURE", "PUBLICATION TABLES IN SCHEMA", "PUBLICATION TABLE", "PUBLICATION",
                    "ROW SECURITY", "RULE", "SCHEMA", "SEARCHPATH", "SECURITY LABEL", "SEQUENCE OWNED BY", "SEQUENCE SET", "SEQUENCE",
                    "SERVER", "SHELL TYPE", "STATISTICS DATA", "STATISTICS", "STDSTRINGS", "SUBSCRIPTION TABLE", "SUBSCRIPTION",
                    "TABLE ATTACH", "TABLE DATA", "TABLE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
                    "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "TRANSFORM", "TRIGGER", "TYPE", "USER MAPPING", "VIEW")
            .stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();

    private final List<BackupMetadata.Table> all;
    private final List<BackupMetadata.Table> chosen;
    private final Set<String> ownedByAny = new HashSet<>();
    private final Set<String> ownedByChosen = new HashSet<>();
    private final Set<String> indexesOfAny = new HashSet<>();
    private final Set<String> indexesOfChosen = new HashSet<>();
    private final Set<String> chosenNames = new HashSet<>();

    public TocFilter(List<BackupMetadata.Table> all, List<BackupMetadata.Table> chosen) {
        this.all = all;
        this.chosen = chosen;
        for (BackupMetadata.Table t : all) {
            ownedByAny.addAll(t.sequences());
            indexesOfAny.addAll(t.indexes());
        }
        for (BackupMetadata.Table t : chosen) {
            ownedByChosen.addAll(t.sequences());
            indexesOfChosen.addAll(t.indexes());
            chosenNames.add(t.name());
        }
    }

    /** The list with every entry that is not kept commented out (pg_restore -L skips lines starting with ';'). */
    public String filter(String toc) {
        StringBuilder out = new StringBuilder();
        for (String line : toc.split("\n")) {
            Matcher m = ENTRY.matcher(line);
            if (m.matches() && !keep(m.group(4))) {
                out.append(';');
            }
            out.append(line).append('\n');
        }
        return out.toString();
    }

    /** Whether to keep an entry, given "DESC namespace tag owner". */
    boolean keep(String rest) {
        String desc = DESCS.stream().filter(d -> rest.startsWith(d + " ")).findFirst().orElse(null);
        if (desc == null) {
            return true;
        }
        String obj = rest.substring(desc.length() + 1);
        return switch (desc) {
            case "TABLE", "TABLE DATA", "TABLE ATTACH", "ROW SECURITY" -> tableState(obj, false) == State.CHOSEN;
            case "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET" -> keepSequence(obj);
            case "DEFAULT", "CONSTRAINT", "CHECK CONSTRAINT", "TRIGGER", "POLICY", "RULE" -> switch (tableState(obj, true)) {
                case CHOSEN -> true;
                case OTHER -> false;
                // not on a table: a domain constraint stays, a rule or trigger on a view goes with the view
                case NONE -> desc.equals("CONSTRAINT") || desc.equals("CHECK CONSTRAINT");
            };
            case "FK CONSTRAINT" -> tableState(obj, true) == State.CHOSEN && referencesChosen(obj);
            case "INDEX", "INDEX ATTACH" -> indexKept(obj);
            case "VIEW", "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "FOREIGN TABLE", "PUBLICATION TABLE", "STATISTICS",
                 "STATISTICS DATA" -> false;
            case "COMMENT", "ACL", "SECURITY LABEL" -> keepAnnotation(obj);
            default -> true;
        };
    }

    private enum State { CHOSEN, OTHER, NONE }

    /** Whether "ns tag owner" names a table (tag equal to it, or with prefix "table " when {@code tagHasSuffix}). */
    private State tableState(String obj, boolean tagHasSuffix) {
        State best = State.NONE;
        int bestLen = -1;
        for (BackupMetadata.Table t : all) {
            String head = t.schema() + " " + t.table() + " ";
            boolean match = obj.startsWith(head) || (!tagHasSuffix && obj.equals(t.schema() + " " + t.table()));
            // the longest matching table name wins: "a b" over "a" for tag "a b c"
            if (match && head.length() > bestLen) {
                bestLen = head.length();
                best = chosenNames.contains(t.name()) ? State.CHOSEN : State.OTHER;
            }
        }
        return best;
    }

    private boolean keepSequence(String obj) {
        String owned = matchQualified(obj, ownedByAny);
        return owned == null || ownedByChosen.contains(owned);
    }

    private boolean indexKept(String obj) {
        String idx = matchQualified(obj, indexesOfAny);
        return idx != null && indexesOfChosen.contains(idx);
    }

    private boolean referencesChosen(String obj) {
        for (BackupMetadata.Table t : chosen) {
            if (obj.startsWith(t.schema() + " " + t.table() + " ")) {
                return t.references().stream().allMatch(chosenNames::contains);
            }
        }
        return false;
    }

    /** Finds which "schema.name" of {@code names} the entry "schema name owner" is about. */
    private static String matchQualified(String obj, Set<String> names) {
        String best = null;
        for (String q : names) {
            int dot = q.indexOf('.');
            String head = q.substring(0, dot) + " " + q.substring(dot + 1);
            if ((obj.startsWith(head + " ") || obj.equals(head)) && (best == null || q.length() > best.length())) {
                best = q;
            }
        }
        return best;
    }

    private boolean keepAnnotation(String obj) {
        int sp = obj.indexOf(' ');
        if (sp < 0) {
            return true;
        }
        String ns = obj.substring(0, sp);
        String tag = obj.substring(sp + 1);
        for (String kind : List.of("MATERIALIZED VIEW ", "VIEW ", "FOREIGN TABLE ")) {
            if (tag.startsWith(kind)) {
                return false;
            }
        }
        if (tag.startsWith("TABLE ")) {
            // grants on views are tagged TABLE too: only a chosen table's stay, since views are left out
            return tableState(ns + " " + tag.substring(6), false) == State.CHOSEN;
        }
        if (tag.startsWith("COLUMN ")) {
            String rest = tag.substring(7);
            for (BackupMetadata.Table t : all) {
                if (t.schema().equals(ns) && rest.startsWith(t.table() + ".")) {
                    return chosenNames.contains(t.name());
                }
            }
            return false;
        }
        if (tag.startsWith("SEQUENCE ")) {
            return keepSequence(ns + " " + tag.substring(9));
        }
        if (tag.startsWith("INDEX ")) {
            return indexKept(ns + " " + tag.substring(6));
        }
        int on = tag.lastIndexOf(" ON ");
        if (on > 0 && (tag.startsWith("CONSTRAINT ") || tag.startsWith("TRIGGER ") || tag.startsWith("POLICY ") || tag.startsWith("RULE "))) {
            String tableAndOwner = tag.substring(on + 4);
            State s = tableState(ns + " " + tableAndOwner, false);
            if (s == State.NONE) {
                s = tableState(ns + " " + tableAndOwner, true);
            }
            return s != State.OTHER;
        }
        return true;
    }
}
