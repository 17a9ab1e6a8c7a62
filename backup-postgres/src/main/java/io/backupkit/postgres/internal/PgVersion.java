package io.backupkit.postgres.internal;

import io.backupkit.ConfigurationException;

/**
 * What differs between the PostgreSQL major versions the engine supports (13 to 17; newer ones
 * are treated like 17): catalog columns, CREATE DATABASE options and features. Every
 * version-dependent query or clause comes from here, so the switch is in one place and unit-tested
 * for each version even where only one server version runs.
 *
 * <ul>
 *   <li>locale provider: none before 15 (always libc); {@code datlocprovider}/{@code daticulocale}
 *       in 15 and 16; {@code daticulocale} renamed {@code datlocale} in 17, which also adds the
 *       builtin provider ({@code b}); ICU rules ({@code daticurules}) since 16;</li>
 *   <li>TID range scans (page-range COPY of one table) since 14;</li>
 *   <li>unlogged sequences since 15.</li>
 * </ul>
 */
public final class PgVersion {
    public static final int MIN_MAJOR = 13;
    /** The newest major version whose catalogs this class knows; newer servers are read like it. */
    public static final int NEWEST_KNOWN_MAJOR = 17;

    private final int versionNum;

    private PgVersion(int versionNum) {
        this.versionNum = versionNum;
    }

    /** From {@code server_version_num} (150014 for 15.14). */
    public static PgVersion of(int serverVersionNum) {
        return new PgVersion(serverVersionNum);
    }

    public int major() {
        return versionNum / 10000;
    }

    public int versionNum() {
        return versionNum;
    }

    /** Refuses servers older than 13 with a message that names the version. */
    public PgVersion requireSupported(String where) {
        if (major() < MIN_MAJOR) {
            throw new ConfigurationException("PostgreSQL " + major() + " at " + where + " is not supported: backupkit needs PostgreSQL "
                    + MIN_MAJOR + " or newer (13 to " + NEWEST_KNOWN_MAJOR + " are tested by construction)");
        }
        return this;
    }

    /** A ctid range ({@code ctid >= '(a,0)' AND ctid < '(b,0)'}) reads only its pages: TID range scans, 14+. */
    public boolean tidRangeScans() {
        return major() >= 14;
    }

    /** Sequences can be unlogged (and then cannot be read on a standby): 15+. */
    public boolean unloggedSequences() {
        return major() >= 15;
    }

    /**
     * Three select-list expressions for the database row {@code d} of pg_database: locale provider
     * ({@code c} libc, {@code i} ICU, {@code b} builtin), the provider's locale, and ICU rules.
     */
    public String databaseLocaleColumns() {
        if (major() < 15) {
            return "'c'::text, NULL::text, NULL::text";
        }
        if (major() == 15) {
            return "d.datlocprovider::text, d.daticulocale, NULL::text";
        }
        if (major() == 16) {
            return "d.datlocprovider::text, d.daticulocale, d.daticurules";
        }
        return "d.datlocprovider::text, d.datlocale, d.daticurules";
    }

    /**
     * The locale-provider part of CREATE DATABASE on this (target) server for a database that had
     * {@code provider}/{@code locale}/{@code icuRules} on its source: empty for libc (LC_COLLATE and
     * LC_CTYPE carry it), {@code LOCALE_PROVIDER icu ICU_LOCALE …} (15+), {@code ICU_RULES …} (16+),
     * {@code LOCALE_PROVIDER builtin BUILTIN_LOCALE …} (17+). A provider this server does not have
     * is refused with a clear message rather than silently sorting differently.
     */
    public String createDatabaseLocaleClause(String provider, String locale, String icuRules, String where) {
        if (provider == null || provider.equals("c")) {
            return "";
        }
        if (provider.equals("i")) {
            if (major() < 15) {
                throw new ConfigurationException("the source database uses the ICU locale provider (locale " + locale + "), which "
                        + where + " (PostgreSQL " + major() + ") cannot create: restore into PostgreSQL 15 or newer");
            }
            StringBuilder sb = new StringBuilder(" LOCALE_PROVIDER icu");
            if (locale != null) {
                sb.append(" ICU_LOCALE ").append(Catalog.quoteLiteral(locale));
            }
            if (icuRules != null && !icuRules.isEmpty()) {
                if (major() < 16) {
                    throw new ConfigurationException("the source database has ICU rules, which " + where + " (PostgreSQL " + major()
                            + ") cannot create: restore into PostgreSQL 16 or newer");
                }
                sb.append(" ICU_RULES ").append(Catalog.quoteLiteral(icuRules));
            }
            return sb.toString();
        }
        if (provider.equals("b")) {
            if (major() < 17) {
                throw new ConfigurationException("the source database uses the builtin locale provider (locale " + locale + "), which "
                        + where + " (PostgreSQL " + major() + ") cannot create: restore into PostgreSQL 17 or newer");
            }
            return " LOCALE_PROVIDER builtin BUILTIN_LOCALE " + Catalog.quoteLiteral(locale == null ? "C" : locale);
        }
        throw new ConfigurationException("unknown locale provider '" + provider + "' in the snapshot metadata");
    }

    @Override
    public String toString() {
        return major() + " (" + versionNum + ")";
    }
}
