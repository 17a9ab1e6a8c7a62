package io.backupkit.postgres;

import io.backupkit.Repository;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The engine contract on a local-disk repository. */
class LocalEngineContractIT extends EngineContractTest {
    @TempDir
    Path dir;

    @Override
    protected Repository openRepository() {
        return Repository.builder().location(dir.resolve("repo").toString()).password("contract-test".toCharArray()).openOrCreate();
    }
}
