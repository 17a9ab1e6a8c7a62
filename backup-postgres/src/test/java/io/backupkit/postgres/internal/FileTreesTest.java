package io.backupkit.postgres.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void deletesTheTree_butNeverWhatItsSymlinksPointTo() throws IOException {
        // a restored data directory: pg_tblspc/16384 links to a tablespace elsewhere
        Path tablespace = Files.createDirectories(dir.resolve("tablespace/PG_15_202209061/5"));
        Files.writeString(tablespace.resolve("16385"), "table data");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata/base/5"));
        Files.writeString(pgdata.resolve("1259"), "catalog");
        Files.createDirectories(dir.resolve("pgdata/pg_tblspc"));
        Files.createSymbolicLink(dir.resolve("pgdata/pg_tblspc/16384"), dir.resolve("tablespace"));

        FileTrees.deleteQuietly(dir.resolve("pgdata"));

        assertFalse(Files.exists(dir.resolve("pgdata"), LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.exists(tablespace.resolve("16385")), "the link's target is kept");
    }

    @Test
    void aMissingPath_orADanglingLink_isFine() throws IOException {
        FileTrees.deleteQuietly(dir.resolve("never-made"));
        FileTrees.deleteQuietly(null);
        Path link = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));
        FileTrees.deleteQuietly(link);
        assertFalse(Files.exists(link, LinkOption.NOFOLLOW_LINKS));
    }
}
