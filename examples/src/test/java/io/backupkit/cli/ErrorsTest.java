package io.backupkit.cli;

import io.backupkit.BackupException;
import io.backupkit.ChecksumMismatchException;
import io.backupkit.KeyRequiredException;
import io.backupkit.TargetExistsException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI explains failures by their type, in its own words (options, not API calls). */
class ErrorsTest {

    @Test
    void targetExists_namesTheOption_whateverTheLibrarySaid_evenWhenWrapped() {
        TargetExistsException exists = new TargetExistsException("database shop on db1:5432",
                "database shop already exists on db1:5432; use dropExisting() to replace it");
        String m = Errors.message(new BackupException("restore failed", exists));
        assertTrue(m.startsWith("database shop on db1:5432 already exists") && m.contains("--drop-existing"), m);
        assertFalse(m.contains("dropExisting()"), m);
        assertEquals(ExitCodes.USAGE, ExitCodes.of(exists));
    }

    @Test
    void keyRequired_saysHowToGiveTheKey() {
        String m = Errors.message(new KeyRequiredException("file:///var/backups/shop/"));
        assertTrue(m.contains("file:///var/backups/shop/ is encrypted") && m.contains("BACKUPKIT_PASSWORD")
                && m.contains("--password-file"), m);
    }

    @Test
    void checksumMismatch_isAnIntegrityFailure_namingObjectAndAlgorithm() {
        ChecksumMismatchException e = new ChecksumMismatchException("data/ab/abcd", "CRC32C", "bytes do not match");
        String m = Errors.message(e);
        assertTrue(m.contains("CRC32C") && m.contains("data/ab/abcd"), m);
        assertEquals(ExitCodes.INTEGRITY, ExitCodes.of(new BackupException("read failed", e)));
    }

    /**
     * Decisions on message text break silently when a message is reworded (and translate the API's
     * words badly): neither the CLI nor the S3 storage may look into exception messages.
     */
    @Test
    void noDecisionIsMadeOnExceptionMessageText() throws IOException {
        Pattern matching = Pattern.compile("getMessage\\(\\)\\s*\\.\\s*(contains|startsWith|endsWith|matches|equals|equalsIgnoreCase"
                + "|indexOf|replace|replaceAll|toLowerCase|toUpperCase|strip|trim)\\s*\\(");
        List<String> found = new ArrayList<>();
        for (Path root : List.of(Path.of("src/main/java"), Path.of("../backup-s3/src/main/java"))) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    List<String> lines = Files.readAllLines(f);
                    for (int i = 0; i < lines.size(); i++) {
                        if (matching.matcher(lines.get(i)).find()) {
                            found.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), found, "exception messages inspected; decide on exception types instead");
    }
}
