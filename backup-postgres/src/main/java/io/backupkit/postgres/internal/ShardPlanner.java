package io.backupkit.postgres.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Splits tables into shards of about equal size: largest table first onto the lightest shard
 * (greedy LPT, within 4/3 of optimal). A table is never split, so one huge table bounds the time.
 */
public final class ShardPlanner {
    private ShardPlanner() {
    }

    /** A shard: its tables and their total size. */
    public record Shard(int index, List<Catalog.TableInfo> tables, long bytes) {
    }

    public static List<Shard> plan(List<Catalog.TableInfo> tables, int shards) {
        int n = Math.max(1, Math.min(shards, tables.size()));
        if (tables.isEmpty()) {
            return List.of();
        }
        List<Catalog.TableInfo> sorted = new ArrayList<>(tables);
        sorted.sort(Comparator.comparingLong(Catalog.TableInfo::bytes).reversed().thenComparing(Catalog.TableInfo::qualifiedName));
        record Bin(int index, List<Catalog.TableInfo> tables, long[] bytes) {
        }
        PriorityQueue<Bin> bins = new PriorityQueue<>(Comparator.<Bin>comparingLong(b -> b.bytes[0]).thenComparingInt(Bin::index));
        for (int i = 0; i < n; i++) {
            bins.add(new Bin(i, new ArrayList<>(), new long[1]));
        }
        for (Catalog.TableInfo t : sorted) {
            Bin b = bins.poll();
            b.tables.add(t);
            // count empty tables as one page so they spread instead of piling onto one shard
            b.bytes[0] += Math.max(t.bytes(), 8192);
            bins.add(b);
        }
        List<Shard> out = new ArrayList<>();
        bins.stream().sorted(Comparator.comparingInt(Bin::index))
                .forEach(b -> out.add(new Shard(b.index, List.copyOf(b.tables), b.tables.stream().mapToLong(Catalog.TableInfo::bytes).sum())));
        return out;
    }
}
