package io.backupkit.postgres.internal.physical;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generated restore_command script's answers that need no JVM: a stand-in "java" records every
 * start, so the test sees which requests reach it.
 */
class RestoreCommandScriptTest {
    static final long SYSID = 7312345678901234567L;

    @TempDir
    Path dir;
    Repository repo;
    Path javaLog;
    RestoreCommandInstaller installer;

    @BeforeEach
    void install() throws IOException {
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
        javaLog = dir.resolve("java.log");
        Path fakeJava = dir.resolve("java");
        // "found": exit 0 and write the destination, as WalFetchMain does
        Files.writeString(fakeJava, "#!/bin/sh\necho \"$@\" >> '" + javaLog + "'\nfor a; do last=$a; done\necho x > \"$last\"\nexit 0\n");
        fakeJava.toFile().setExecutable(true);
        installer = new RestoreCommandInstaller(dir.resolve("pgdata.backupkit"), null, null);
        installer.install(repo, SYSID, fakeJava, List.of(), "snap", dir.resolve("pgdata"), Set.of("000000010000000000000002"));
    }

    @AfterEach
    void close() {
        repo.close();
    }

    private int run(String name) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", installer.directory().resolve(RestoreCommandInstaller.SCRIPT).toString(), name,
                dir.resolve("out-" + name).toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    private String javaStarts() throws IOException {
        return Files.exists(javaLog) ? Files.readString(javaLog, StandardCharsets.UTF_8) : "";
    }

    @Test
    void historyFileTheLocalRepositoryLacks_isNotFound_withoutStartingJava() throws Exception {
        WalArchive.of(repo).logArchive().put(WalObjectNames.of(SYSID, "000000010000000000000009"), new byte[100], Map.of());
        // what PostgreSQL asks when recovery starts and when it promotes (picking a free timeline)
        assertEquals(1, run("00000002.history"));
        assertEquals(1, run("00000003.history"));
        assertEquals("", javaStarts(), "a missing history file must be answered without a JVM");
    }

    @Test
    void historyFileTheRepositoryHolds_segmentsAndTheSelfTest_stillGoToJava() throws Exception {
        WalArchive.of(repo).logArchive().put(WalObjectNames.of(SYSID, "00000002.history"),
                "1\t0/3000000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8), Map.of());
        assertEquals(0, run("00000002.history"));
        assertTrue(javaStarts().contains("00000002.history"), javaStarts());
        assertEquals(0, run("000000010000000000000009"));
        assertTrue(javaStarts().contains("000000010000000000000009"), javaStarts());
        // a segment inside the base backup: PostgreSQL reads it from pg_wal
        assertEquals(1, run("000000010000000000000002"));
        assertFalse(javaStarts().contains("000000010000000000000002"), javaStarts());
    }

    @Test
    void stagedSegment_isHandedOverByRename_withoutJava_andASecondRequestGoesToTheArchive() throws Exception {
        String name = "00000001000000000000000A";
        byte[] content = new byte[64 * 1024];
        new java.util.Random(7).nextBytes(content);
        Files.write(installer.spool().resolve(name), content);
        assertEquals(0, run(name));
        assertEquals("", javaStarts());
        assertTrue(java.util.Arrays.equals(content, Files.readAllBytes(dir.resolve("out-" + name))));
        assertFalse(Files.exists(installer.spool().resolve(name)), "handed over by a rename, not a 16 MiB copy");
        assertEquals(0, run(name));
        assertTrue(javaStarts().contains(name), javaStarts());
    }

    @Test
    void anUnsearchableWalDirectory_goesToJava_ratherThanAnsweringNotFound() throws Exception {
        // the archive's directory of this cluster does not exist at all: the script cannot tell, the JVM can
        Path walRoot = dir.resolve("repo").resolve("wal").resolve(Long.toUnsignedString(SYSID));
        assertFalse(Files.exists(walRoot));
        assertEquals(0, run("00000002.history"));
        assertTrue(javaStarts().contains("00000002.history"), javaStarts());
    }
}
