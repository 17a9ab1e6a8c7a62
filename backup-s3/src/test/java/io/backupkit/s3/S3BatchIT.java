package io.backupkit.s3;

import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Listing pages through ListObjectsV2; deletes go in DeleteObjects batches of 1000. */
class S3BatchIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();

    @Test
    void listPaginates_andDeleteBatchesByThousand() {
        RecordingInterceptor rec = new RecordingInterceptor();
        try (S3Storage storage = S3.storage(S3.newBucket()).prefix("p").maxConcurrency(8).executionInterceptor(rec).build()) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 2050; i++) {
                String name = String.format("data/%02x/pack-%05d", i % 256, i);
                names.add(name);
                storage.putIfAbsent(name, Payload.of(new byte[]{(byte) i}));
            }
            storage.putIfAbsent("index/keep", Payload.of(new byte[3]));
            rec.clear();
            List<ObjectInfo> listed = storage.list("data/");
            assertEquals(2050, listed.size());
            assertEquals(3, rec.sent("ListObjectsV2").size(), "1000 keys per page");

            rec.clear();
            storage.delete(names);
            assertEquals(3, rec.sent("DeleteObjects").size(), "1000, 1000, 50");
            assertEquals(0, rec.sent("DeleteObject").size());
            assertEquals(Set.of("index/keep"), storage.list("").stream().map(ObjectInfo::name).collect(Collectors.toSet()));
            storage.delete(List.of("index/keep", "index/never-was"));
            assertEquals(List.of(), storage.list(""));
        }
    }
}
