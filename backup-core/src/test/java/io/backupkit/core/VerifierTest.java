package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerifierTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(VerificationLevel.class)
    void goodSnapshot_passesEveryLevel(VerificationLevel level) {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("a", () -> DumpLikeData.stream(1, 3_000_000))
                    .stream("b", () -> DumpLikeData.stream(2, 10)));
            VerificationReport r = Verifier.builder().repository(repo).level(level).scratchTarget(new DigestTarget()).build().verify();
            assertTrue(r.passed(), r.failures().toString());
            assertEquals(1.0, r.passRate());
            assertEquals(level, r.level());
            assertTrue(r.checks().stream().anyMatch(c -> c.name().equals("blobs of stream a")));
            if (level != VerificationLevel.QUICK) {
                assertTrue(r.checks().stream().anyMatch(c -> c.name().equals("content of stream a") && c.status() == VerificationCheck.Status.PASSED));
            }
            if (level == VerificationLevel.COMPREHENSIVE) {
                assertTrue(r.checks().stream().anyMatch(c -> c.name().equals("scratch restore")));
            }
        }
    }

    @Test
    void comprehensiveWithoutScratchTarget_isAConfigurationError() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            assertThrows(ConfigurationException.class,
                    () -> Verifier.builder().repository(repo).level(VerificationLevel.COMPREHENSIVE).build());
        }
    }
}
