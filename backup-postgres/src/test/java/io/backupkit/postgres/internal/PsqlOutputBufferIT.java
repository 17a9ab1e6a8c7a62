package io.backupkit.postgres.internal;

import io.backupkit.LocalCommandExecutor;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import io.backupkit.testkit.ChildProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The psql COPY sessions of a logical backup write their output through a 1 MiB stdio buffer
 * (coreutils' stdbuf) where stdbuf works, and run as plain psql where it does not.
 */
class PsqlOutputBufferIT {
    static EphemeralPostgres pg;
    static ToolRunner tools;
    static PgConnectionConfig cfg;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.start();
        cfg = PgConnectionConfig.of(pg.jdbcUrl("postgres"), pg.user(), pg.password().toCharArray(), null, null);
        tools = new ToolRunner(new LocalCommandExecutor(), pg.binDirectory().orElseThrow(), cfg);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    /** psql COPYing 10 MB to a pipe nobody reads yet: how many writes it completed before the full pipe stopped it. */
    private static long writesBeforeThePipeFills(CommandSpec.Builder psql) throws Exception {
        CommandSpec spec = psql.arg("--no-psqlrc").arg("--quiet").arg("--no-password")
                .arg("--dbname=" + cfg.libpqConnectionString("buffer test"))
                .arg("--command=COPY (SELECT repeat('x', 200) FROM generate_series(1, 50000)) TO STDOUT").build();
        try (RunningCommand rc = new LocalCommandExecutor().start(spec)) {
            ProcessHandle child = ChildProcesses.awaitNamed("psql", Duration.ofSeconds(30)).orElseThrow();
            // psql blocks once the pipe (64 KiB) is full: count its finished writes then
            assertTrue(ChildProcesses.awaitBlockedWritingAPipe(child, Duration.ofMillis(300), Duration.ofSeconds(60)),
                    "psql waits on its full pipe");
            long writes = syscw(child.pid());
            long bytes;
            try (InputStream out = rc.stdout()) {
                bytes = out.transferTo(java.io.OutputStream.nullOutputStream());
            }
            assertEquals(0, rc.waitFor());
            assertEquals(50_000L * 201, bytes, "every row arrives, buffered or not");
            return writes;
        }
    }

    private static long syscw(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/io"))) {
            if (line.startsWith("syscw:")) {
                return Long.parseLong(line.substring(6).strip());
            }
        }
        throw new IllegalStateException("no syscw in /proc/" + pid + "/io");
    }

    @Test
    void psqlUnderStdbuf_fillsThePipeWithOneWrite_whereThePlainOneTakesSixteen() throws Exception {
        assumeTrue(ToolRunner.onPath(ToolRunner.STDBUF) != null, "coreutils' stdbuf is not on this PATH");
        assumeTrue(ChildProcesses.waitChannelsShown(), "this system shows no wait channels in /proc");
        CommandSpec buffered = tools.commandWithOutputBuffer("psql").build();
        assertEquals(List.of(ToolRunner.onPath(ToolRunner.STDBUF), "--output=1M", tools.program("psql")), buffered.command());

        long plainWrites = writesBeforeThePipeFills(tools.command("psql"));
        long bufferedWrites = writesBeforeThePipeFills(tools.commandWithOutputBuffer("psql"));
        // 4 KiB pieces: a 64 KiB pipe takes 16 finished writes before psql blocks; one 1 MiB write is still under way
        assertTrue(plainWrites >= 15, "plain psql writes in 4 KiB pieces: " + plainWrites);
        assertTrue(bufferedWrites <= 2, "psql under stdbuf writes 1 MiB at a time: " + bufferedWrites);
    }

    @Test
    void aStdbufThatCannotRunTheTool_leavesThePlainTool(@TempDir Path dir) throws IOException {
        // what stdbuf does where it cannot preload its library into the tool (exit status 125)
        Path broken = dir.resolve("stdbuf");
        Files.writeString(broken, "#!/bin/sh\necho 'stdbuf: failed to find libstdbuf.so' >&2\nexit 125\n");
        Files.setPosixFilePermissions(broken, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(List.of(tools.program("psql")), tools.commandWithOutputBuffer("psql", broken.toString()).build().command());
        assertEquals(List.of(tools.program("psql")), tools.commandWithOutputBuffer("psql", dir.resolve("missing").toString()).build().command());
    }
}
