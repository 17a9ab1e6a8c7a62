package io.backupkit.core;

import io.backupkit.LocalCommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalCommandExecutorTest {

    private static List<String> environmentOf(CommandSpec spec) throws Exception {
        try (RunningCommand rc = new LocalCommandExecutor().start(spec)) {
            rc.stdin().close();
            String out = new String(rc.stdout().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, rc.waitFor());
            return Arrays.stream(out.split("\n")).filter(l -> !l.isEmpty()).sorted().toList();
        }
    }

    @Test
    void cleanEnvironment_childSeesOnlyTheGivenVariables() throws Exception {
        List<String> env = environmentOf(CommandSpec.builder("/usr/bin/env").inheritEnvironment(false)
                .env("BACKUPKIT_ONLY", "1").env("LC_ALL", "C").build());
        assertEquals(List.of("BACKUPKIT_ONLY=1", "LC_ALL=C"), env);
    }

    @Test
    void byDefault_childInheritsThisProcessEnvironment() throws Exception {
        List<String> env = environmentOf(CommandSpec.builder("/usr/bin/env").env("BACKUPKIT_ONLY", "1").build());
        assertTrue(env.contains("BACKUPKIT_ONLY=1"), env.toString());
        String path = System.getenv("PATH");
        assertTrue(path == null || env.contains("PATH=" + path), "inherits PATH: " + env);
    }

    @Test
    void toString_namesTheCleanEnvironment_butNoValues() {
        String s = CommandSpec.builder("pg_dump").inheritEnvironment(false).env("PGPASSWORD", "secret").build().toString();
        assertTrue(s.contains("clean environment"), s);
        assertTrue(!s.contains("secret"), s);
    }

    /** A child destroyed by an interrupted thread (a worker stopped by an interrupt closes its child) still gets SIGTERM first. */
    @Test
    void destroy_onAnInterruptedThread_givesTheChildItsSigterm_andKeepsTheFlag() throws Exception {
        try (RunningCommand rc = new LocalCommandExecutor().start(CommandSpec.builder("sh")
                .args(List.of("-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done")).build())) {
            java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(rc.stdout(), StandardCharsets.UTF_8));
            assertEquals("ready", out.readLine());
            Thread.currentThread().interrupt();
            try {
                rc.destroy();
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt flag is kept");
            }
            // 7: its TERM handler ran; 137 would be SIGKILL
            assertEquals(7, rc.waitFor());
        }
    }
}
