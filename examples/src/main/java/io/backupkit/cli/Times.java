package io.backupkit.cli;

import io.backupkit.ConfigurationException;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/** Reads times given on the command line: ISO-8601 instants, or 'YYYY-MM-DD HH:MM:SS[.fff]±HH[:MM]'. */
final class Times {
    private static final DateTimeFormatter SPACED = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd[ ]['T']HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
            .appendPattern("[XXX][XX][X]")
            .toFormatter();

    private Times() {
    }

    /** The instant {@code text} names; a time without a zone is refused (it would mean a different instant on each host). */
    static Instant parseInstant(String text, String option) {
        String t = text.strip();
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException ignored) {
            // not the strict ISO form: try the spaced one with an offset
        }
        try {
            return OffsetDateTime.parse(t, SPACED).toInstant();
        } catch (DateTimeParseException e) {
            throw new ConfigurationException(option + " needs a time with its zone, e.g. 2026-11-30T09:15:00Z or '2026-11-30 10:15:00+01'; "
                    + "got '" + text + "'");
        }
    }
}
