package io.backupkit.internal.repo;

import io.backupkit.SnapshotDiff;
import io.backupkit.SnapshotStats;
import io.backupkit.StatsReport;
import io.backupkit.spi.ObjectInfo;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** Stats and diffs: computed from the index and the snapshots' blob lists, reading no data. */
public final class RepositoryAnalysis {
    private RepositoryAnalysis() {
    }

    private record Snap(String id, Manifest manifest) {
    }

    public static StatsReport stats(DefaultRepository repo, String only) {
        String onlyId = only == null ? null : repo.resolveSnapshotId(only);
        BlobIndex index = repo.locationIndex();
        BlobReader reader = new BlobReader(repo, index);
        List<Snap> snaps = new ArrayList<>();
        for (ObjectInfo o : repo.storage().list(Formats.SNAPSHOTS)) {
            String id = Formats.idOf(o.name());
            snaps.add(new Snap(id, repo.manifest(id)));
        }
        snaps.sort(Comparator.comparing((Snap s) -> s.manifest().time()).thenComparing(Snap::id));
        // per distinct blob: how many snapshots reference it, and the last snapshot counted (so each counts once)
        CompactBlobTable refs = new CompactBlobTable(3);
        int[] fresh = {0, -1, -1};
        byte[] raw = new byte[BlobId.BYTES];
        for (int k = 0; k < snaps.size(); k++) {
            int snap = k;
            forEachBlob(reader, snaps.get(k), id -> {
                id.writeTo(raw, 0);
                if (!refs.update(raw, 0, v -> {
                    if (v[1] != snap) {
                        v[0]++;
                        v[1] = snap;
                        return true;
                    }
                    return false;
                })) {
                    refs.put(raw, 0, new int[] {1, snap, -1}, x -> false);
                }
            });
        }
        List<SnapshotStats> out = new ArrayList<>();
        long rawAll = 0;
        for (int k = 0; k < snaps.size(); k++) {
            Snap s = snaps.get(k);
            long rawBytes = s.manifest().streams().stream().mapToLong(Manifest.StreamEntry::size).sum();
            rawAll += rawBytes;
            if (onlyId != null && !onlyId.equals(s.id())) {
                continue;
            }
            long[] f = new long[4];
            int snap = k;
            forEachBlob(reader, s, id -> {
                f[0]++;
                id.writeTo(raw, 0);
                refs.update(raw, 0, v -> {
                    if (v[2] == snap) {
                        return false;
                    }
                    v[2] = snap;
                    BlobLocation loc = index.get(id);
                    long len = loc == null ? 0 : loc.length();
                    f[1]++;
                    f[2] += len;
                    if (v[0] == 1) {
                        f[3] += len;
                    }
                    return true;
                });
            });
            out.add(new SnapshotStats(s.id(), s.manifest().time(), rawBytes, f[0], f[1], f[2], f[3]));
        }
        long[] totals = new long[3];
        refs.forEach((id, v) -> {
            BlobLocation loc = index.get(BlobId.of(id));
            if (loc != null) {
                totals[0]++;
                totals[1] += loc.rawLength();
                totals[2] += loc.length();
            }
        });
        long stored = 0;
        for (String prefix : List.of(Formats.DATA, Formats.INDEX, Formats.SNAPSHOTS)) {
            stored += repo.storage().list(prefix).stream().mapToLong(ObjectInfo::size).sum();
        }
        Map<String, Long> packs = index.packs();
        long packBytes = packs.values().stream().mapToLong(Long::longValue).sum();
        long unused = Math.max(0, packBytes - totals[2]);
        return new StatsReport(out, snaps.size(), rawAll, totals[1], totals[2], stored, unused, packs.size(), totals[0]);
    }

    /** Every data blob and blob list of a snapshot, in order (with repeats). */
    private static void forEachBlob(BlobReader reader, Snap s, java.util.function.Consumer<BlobId> f) {
        for (Manifest.StreamEntry e : s.manifest().streams()) {
            for (String list : e.lists()) {
                f.accept(BlobId.parse(list));
            }
            BlobReader.StreamIds ids = reader.ids(e, Formats.SNAPSHOTS + s.id());
            while (ids.hasNext()) {
                f.accept(ids.next());
            }
        }
    }

    public static SnapshotDiff diff(DefaultRepository repo, String from, String to) {
        String a = repo.resolveSnapshotId(from);
        String b = repo.resolveSnapshotId(to);
        Manifest ma = repo.manifest(a);
        Manifest mb = repo.manifest(b);
        BlobIndex index = repo.locationIndex();
        BlobReader reader = new BlobReader(repo, index);
        Set<String> names = new TreeSet<>();
        ma.streams().forEach(s -> names.add(s.name()));
        mb.streams().forEach(s -> names.add(s.name()));
        List<SnapshotDiff.StreamDiff> streams = new ArrayList<>();
        long added = 0;
        long removed = 0;
        for (String name : names) {
            Manifest.StreamEntry sa = ma.stream(name);
            Manifest.StreamEntry sb = mb.stream(name);
            if (sa == null) {
                streams.add(new SnapshotDiff.StreamDiff(name, SnapshotDiff.Change.ADDED, 0, sb.size(), sb.size(), 0));
                added += sb.size();
            } else if (sb == null) {
                streams.add(new SnapshotDiff.StreamDiff(name, SnapshotDiff.Change.REMOVED, sa.size(), 0, 0, sa.size()));
                removed += sa.size();
            } else if (sa.sha256().equals(sb.sha256()) && sa.size() == sb.size()) {
                streams.add(new SnapshotDiff.StreamDiff(name, SnapshotDiff.Change.UNCHANGED, sa.size(), sb.size(), 0, 0));
            } else {
                long plus = onlyIn(reader, index, sb, sa, b, a);
                long minus = onlyIn(reader, index, sa, sb, a, b);
                streams.add(new SnapshotDiff.StreamDiff(name, SnapshotDiff.Change.CHANGED, sa.size(), sb.size(), plus, minus));
                added += plus;
                removed += minus;
            }
        }
        return new SnapshotDiff(a, b, streams, tables(ma, mb), added, removed);
    }

    /** Plaintext bytes of the blobs of {@code x} that {@code y} does not have. */
    private static long onlyIn(BlobReader reader, BlobIndex index, Manifest.StreamEntry x, Manifest.StreamEntry y, String xId, String yId) {
        CompactBlobTable inY = new CompactBlobTable(0);
        byte[] raw = new byte[BlobId.BYTES];
        BlobReader.StreamIds ys = reader.ids(y, Formats.SNAPSHOTS + yId);
        while (ys.hasNext()) {
            ys.next().writeTo(raw, 0);
            inY.addIfAbsent(raw, 0);
        }
        long bytes = 0;
        BlobReader.StreamIds xs = reader.ids(x, Formats.SNAPSHOTS + xId);
        while (xs.hasNext()) {
            BlobId id = xs.next();
            id.writeTo(raw, 0);
            if (!inY.contains(raw, 0)) {
                BlobLocation loc = index.get(id);
                bytes += loc == null ? 0 : loc.rawLength();
            }
        }
        return bytes;
    }

    /** Tables from engine metadata ("tables": a list of objects with "name" and "rows"). */
    private static List<SnapshotDiff.TableDiff> tables(Manifest a, Manifest b) {
        Map<String, Long> ta = rows(a);
        Map<String, Long> tb = rows(b);
        Set<String> names = new TreeSet<>(ta.keySet());
        names.addAll(tb.keySet());
        List<SnapshotDiff.TableDiff> out = new ArrayList<>();
        for (String n : names) {
            Long ra = ta.get(n);
            Long rb = tb.get(n);
            SnapshotDiff.Change c = ra == null ? SnapshotDiff.Change.ADDED : rb == null ? SnapshotDiff.Change.REMOVED
                    : ra.equals(rb) ? SnapshotDiff.Change.UNCHANGED : SnapshotDiff.Change.CHANGED;
            out.add(new SnapshotDiff.TableDiff(n, c, ra == null ? -1 : ra, rb == null ? -1 : rb));
        }
        return out;
    }

    private static Map<String, Long> rows(Manifest m) {
        Map<String, Long> out = new TreeMap<>();
        Object t = m.metadata() == null ? null : m.metadata().get("tables");
        if (t instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> map && map.get("name") != null) {
                    Object r = map.get("rows");
                    out.put(map.get("name").toString(), r instanceof Number n ? n.longValue() : -1L);
                }
            }
        } else if (t instanceof Map<?, ?> map) {
            map.forEach((k, v) -> out.put(k.toString(), v instanceof Map<?, ?> mm && mm.get("rows") instanceof Number n
                    ? n.longValue() : -1L));
        }
        return out;
    }
}
