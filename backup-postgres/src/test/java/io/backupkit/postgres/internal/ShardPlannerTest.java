package io.backupkit.postgres.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardPlannerTest {

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 42, 4711})
    void everyTableInExactlyOneShard_andShardsWithinFourThirdsOfOptimal(long seed) {
        Random rnd = new Random(seed);
        List<Catalog.TableInfo> tables = new ArrayList<>();
        int n = 1 + rnd.nextInt(60);
        for (int i = 0; i < n; i++) {
            tables.add(new Catalog.TableInfo(i, "s", "t" + i, false, null, (long) (Math.pow(10, 3 + rnd.nextDouble() * 6))));
        }
        int workers = 1 + rnd.nextInt(8);
        List<ShardPlanner.Shard> shards = ShardPlanner.plan(tables, workers);
        assertEquals(Math.min(workers, n), shards.size());
        Set<String> seen = new HashSet<>();
        shards.forEach(s -> s.tables().forEach(t -> assertTrue(seen.add(t.qualifiedName()), "twice: " + t)));
        assertEquals(n, seen.size());
        long total = tables.stream().mapToLong(Catalog.TableInfo::bytes).sum();
        long biggest = tables.stream().mapToLong(Catalog.TableInfo::bytes).max().orElse(0);
        long lowerBound = Math.max(biggest, total / shards.size());
        long worst = shards.stream().mapToLong(ShardPlanner.Shard::bytes).max().orElse(0);
        // LPT guarantee (plus the one-page minimum per table)
        assertTrue(worst <= lowerBound * 4 / 3 + 8192L * n, "worst shard " + worst + " vs bound " + lowerBound);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4})
    void noTables_noShards(int workers) {
        assertEquals(List.of(), ShardPlanner.plan(List.of(), workers));
    }
}
