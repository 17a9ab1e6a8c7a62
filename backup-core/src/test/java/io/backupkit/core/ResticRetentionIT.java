package io.backupkit.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.backupkit.RetentionPlan;
import io.backupkit.RetentionPolicy;
import io.backupkit.SnapshotSummary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 11 acceptance 2, differentially: the real restic binary decides which snapshots its {@code forget}
 * keeps, and {@link RetentionPolicy} must keep exactly the same ones for the same reasons.
 *
 * <p>One throwaway restic repository per time zone (New York: negative offset; Berlin: positive) holds
 * about 30 snapshots of a tiny file, made with {@code restic backup --time} at chosen and seeded random
 * times: both DST changes (hours that occur twice, hours that do not exist), leap days, ISO week 53
 * years (2015, 2020), year ends where the zone and UTC disagree, several snapshots per hour and per day,
 * one snapshot in the future, and a newest snapshot placed so that {@code --keep-within} counts back into
 * a DST gap (New York) or overlap (Berlin). Each snapshot is taken with {@code TZ} set to the fixed offset
 * the zone has at that instant, so restic records the zone's offset even inside a repeated hour; {@code
 * forget} then runs with {@code TZ} set to the zone, like a user in that zone. The times compared are the
 * ones restic recorded (read back with {@code restic snapshots --json}).
 *
 * <p>restic 0.14 (Debian's) predates two behaviours restic documents since 0.16, which backupkit follows:
 * "unlimited" counts (0.14 has none, and silently ignores {@code -1}; a count larger than the number of
 * snapshots is the same thing there) and keeping the oldest snapshot as well while a rule has counts left
 * (reason "oldest daily snapshot"). With an older restic the expected plan adds the oldest-snapshot
 * reasons, derived from the counters restic reports; a restic 0.16+ reports them itself.
 *
 * <p>Skipped only when the restic binary is missing ({@code -Dbackupkit.test.restic=PATH} points elsewhere).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResticRetentionIT {
    private static final Path RESTIC = Path.of(System.getProperty("backupkit.test.restic", "/usr/bin/restic"));
    private static final DateTimeFormatter RESTIC_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final String PASSWORD = "restic-diff-only";

    /** restic's options; "unlimited" is translated for a restic that lacks it. */
    private static final List<String> POLICIES = List.of(
            "--keep-last 5",
            "--keep-hourly 8",
            "--keep-daily 10",
            "--keep-weekly 8",
            "--keep-monthly 9",
            "--keep-yearly 4",
            "--keep-yearly 20",
            "--keep-hourly unlimited",
            "--keep-within 1m",
            "--keep-within 1d",
            "--keep-within 2y5m7d3h",
            "--keep-tag keep=yes",
            "--keep-last 2 --keep-daily 4 --keep-weekly 3 --keep-monthly 6 --keep-yearly unlimited --keep-within 10d",
            "--keep-hourly 3 --keep-weekly 60 --keep-tag keep=yes --keep-within 5h");

    private Path dir;
    private ExecutorService pool;
    private int[] version;
    /** Per zone: the snapshots restic recorded, with their ids and recorded times. */
    private final Map<ZoneId, List<SnapshotSummary>> snapshots = new LinkedHashMap<>();
    private final Map<String, Future<JsonNode>> forgets = new LinkedHashMap<>();
    private long started;

    @BeforeAll
    void makeRepositoriesAndAskRestic() throws Exception {
        String missing = "restic is not installed at " + RESTIC
                + " (apt-get install restic, as .ci/run does; or -Dbackupkit.test.restic=PATH): the differential retention test is skipped";
        if (!Files.isExecutable(RESTIC)) {
            // an assumption failing in @BeforeAll shows in no report line; say it in the test output (failsafe-reports/*-output.txt)
            System.err.println("ResticRetentionIT: " + missing);
        }
        assumeTrue(Files.isExecutable(RESTIC), missing);
        started = System.nanoTime();
        dir = Files.createTempDirectory("restic-diff");
        pool = Executors.newFixedThreadPool(3);
        Matcher m = Pattern.compile("restic (\\d+)\\.(\\d+)").matcher(run(Map.of(), List.of("version")));
        assertTrue(m.find(), "restic version");
        version = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
        Map<ZoneId, Future<List<SnapshotSummary>>> made = new LinkedHashMap<>();
        for (ZoneId zone : List.of(NEW_YORK, BERLIN)) {
            // the two repositories fill in parallel, each with its own backups in parallel too
            made.put(zone, Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "restic-" + zone);
                t.setDaemon(true);
                return t;
            }).submit(() -> makeRepository(zone)));
        }
        for (Map.Entry<ZoneId, Future<List<SnapshotSummary>>> e : made.entrySet()) {
            snapshots.put(e.getKey(), e.getValue().get(10, TimeUnit.MINUTES));
        }
        // forget --dry-run changes nothing and, with --no-lock, runs concurrently
        for (ZoneId zone : snapshots.keySet()) {
            for (String policy : POLICIES) {
                List<String> args = new ArrayList<>(List.of("forget", "--dry-run", "--no-lock", "--json", "--no-cache"));
                for (String a : policy.split(" ")) {
                    args.add(a.equals("unlimited") && !atLeast(0, 16) ? "100000" : a);
                }
                Map<String, String> env = env(zone, zone.getId());
                forgets.put(key(zone, policy), pool.submit(() -> JSON.readTree(run(env, args))));
            }
        }
    }

    @AfterAll
    void cleanUp() throws IOException {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            System.out.printf("ResticRetentionIT: restic %d.%d, %s snapshots, %d policies, %.1f s%n", version[0], version[1],
                    snapshots.values().stream().map(l -> String.valueOf(l.size())).toList(), POLICIES.size(),
                    (System.nanoTime() - started) / 1e9);
        }
    }

    private boolean atLeast(int major, int minor) {
        return version[0] > major || version[0] == major && version[1] >= minor;
    }

    private static String key(ZoneId zone, String policy) {
        return zone.getId() + " " + policy;
    }

    private Map<String, String> env(ZoneId zone, String tz) {
        return Map.of("RESTIC_PASSWORD", PASSWORD, "RESTIC_REPOSITORY", dir.resolve(zone.getId().replace('/', '-')).toString(),
                "TZ", tz);
    }

    /** Wall times in the zone, with the offset that tells which of a repeated hour is meant. */
    private static List<OffsetDateTime> times(ZoneId zone) {
        List<String> chosen = new ArrayList<>(List.of(
                // leap day: its own day, and its own week/month edges
                "2024-02-28T23:30", "2024-02-29T00:10", "2024-02-29T23:50", "2024-03-01T00:05", "2020-02-29T12:00",
                // ISO week 53: 2020-W53 runs Monday 28 December 2020 to Sunday 3 January 2021; 2015-W53 likewise
                "2020-12-31T10:00", "2021-01-03T23:30", "2021-01-04T00:30", "2015-12-28T08:00", "2016-01-03T20:00",
                // 21:00 on 31 December in New York is next year in UTC; several per hour
                "2023-12-31T21:00", "2023-12-31T21:20", "2024-01-01T00:40", "2024-01-01T00:50"));
        List<String> withOffsets = new ArrayList<>();
        if (zone.equals(NEW_YORK)) {
            withOffsets.addAll(List.of(
                    // 2 November 2025: 01:00-02:00 happens twice (EDT, then EST)
                    "2025-11-02T00:50-04:00", "2025-11-02T01:20-04:00", "2025-11-02T01:40-05:00", "2025-11-02T02:10-05:00",
                    // 9 March 2025: 02:00-03:00 does not exist
                    "2025-03-09T01:50-05:00", "2025-03-09T03:10-04:00",
                    // the newest: one month back is 8 March 2026 02:30, a wall time that does not exist
                    "2026-04-08T02:30-04:00", "2026-03-08T01:20-05:00", "2026-03-08T01:45-05:00", "2026-03-08T03:10-04:00",
                    "2026-03-08T03:40-04:00"));
        } else {
            withOffsets.addAll(List.of(
                    // 26 October 2025: 02:00-03:00 happens twice (CEST, then CET)
                    "2025-10-26T01:50+02:00", "2025-10-26T02:20+02:00", "2025-10-26T02:40+01:00", "2025-10-26T03:05+01:00",
                    // 30 March 2025: 02:00-03:00 does not exist
                    "2025-03-30T01:50+01:00", "2025-03-30T03:10+02:00",
                    // the newest in the past: one day back is 25 October 2026 02:30, a wall time that occurs twice
                    "2026-10-26T02:30+01:00", "2026-10-25T02:20+02:00", "2026-10-25T02:40+02:00", "2026-10-25T02:20+01:00",
                    "2026-10-25T02:45+01:00",
                    // in the future: never the newest for keep-within, kept by it
                    "2031-06-01T12:00+02:00"));
        }
        List<OffsetDateTime> out = new ArrayList<>();
        chosen.forEach(s -> out.add(LocalDateTime.parse(s).atZone(zone).toOffsetDateTime()));
        withOffsets.forEach(s -> out.add(OffsetDateTime.parse(s)));
        // a few seeded random times near the edges above, whole minutes
        Random r = new Random(20261130L + zone.getId().hashCode());
        List<OffsetDateTime> centers = List.copyOf(out);
        for (int i = 0; i < 6; i++) {
            Instant c = centers.get(r.nextInt(centers.size())).toInstant();
            long spread = r.nextBoolean() ? 3 * 60 : 10 * 24 * 60;
            Instant t = c.plus(Duration.ofMinutes((long) ((r.nextDouble() * 2 - 1) * spread)));
            out.add(t.atZone(zone).toOffsetDateTime());
        }
        // the newest past snapshot must stay the chosen one (keep-within's edge case): drop random ones after it
        Instant newest = OffsetDateTime.parse(withOffsets.get(6)).toInstant();
        Instant now = Instant.now();
        out.removeIf(t -> t.toInstant().isAfter(newest) && t.toInstant().isBefore(now));
        out.add(OffsetDateTime.parse(withOffsets.get(6)));
        return out.stream().collect(Collectors.toMap(OffsetDateTime::toInstant, t -> t, (a, b) -> a, TreeMap::new)).values()
                .stream().toList();
    }

    private List<SnapshotSummary> makeRepository(ZoneId zone) throws Exception {
        Path repo = dir.resolve(zone.getId().replace('/', '-'));
        Path file = dir.resolve("data-" + zone.getId().replace('/', '-') + ".txt");
        Files.writeString(file, "a tiny file to back up\n");
        run(env(zone, zone.getId()), List.of("init"));
        List<OffsetDateTime> times = times(zone);
        List<Future<String>> backups = new ArrayList<>();
        for (int i = 0; i < times.size(); i++) {
            OffsetDateTime t = times.get(i);
            int hours = t.getOffset().getTotalSeconds() / 3600;
            assertEquals(hours * 3600, t.getOffset().getTotalSeconds(), "whole-hour offsets only");
            // restic reads --time in the local zone; a fixed-offset zone says which of a repeated hour is meant
            // (Etc/GMT+5 is UTC-5, POSIX's sign)
            String tz = hours == 0 ? "UTC" : "Etc/GMT" + (hours > 0 ? "-" : "+") + Math.abs(hours);
            List<String> args = new ArrayList<>(List.of("backup", "--no-cache", "--quiet", "--host", "restic-diff", "--time",
                    RESTIC_TIME.format(t)));
            if (i % 5 == 2) {
                args.addAll(List.of("--tag", "keep=yes"));
            }
            args.add(file.toString());
            Map<String, String> env = env(zone, tz);
            backups.add(pool.submit(() -> run(env, args)));
        }
        for (Future<String> b : backups) {
            b.get(10, TimeUnit.MINUTES);
        }
        JsonNode list = JSON.readTree(run(env(zone, zone.getId()), List.of("snapshots", "--no-cache", "--json")));
        List<SnapshotSummary> out = new ArrayList<>();
        for (JsonNode s : list) {
            Map<String, String> tags = new TreeMap<>();
            s.path("tags").forEach(tag -> {
                String[] kv = tag.asText().split("=", 2);
                tags.put(kv[0], kv.length > 1 ? kv[1] : "");
            });
            out.add(new SnapshotSummary(s.get("id").asText(), OffsetDateTime.parse(s.get("time").asText()).toInstant(), "restic-diff",
                    "restic", file.toString(), "-", tags, 1, 1, 1));
        }
        TreeSet<Instant> asked = times.stream().map(OffsetDateTime::toInstant).collect(Collectors.toCollection(TreeSet::new));
        TreeSet<Instant> recorded = out.stream().map(SnapshotSummary::time).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(asked, recorded, "restic recorded the times asked for");
        return out;
    }

    private String run(Map<String, String> env, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(RESTIC.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("restic " + args + " did not finish in 5 minutes");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("restic " + args + " (TZ=" + env.get("TZ") + ") failed with " + p.exitValue() + ": "
                    + Files.readString(err));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    Stream<Arguments> cases() {
        return Stream.of(NEW_YORK, BERLIN).flatMap(z -> POLICIES.stream().map(p -> Arguments.of(z, p)));
    }

    /** The same policy for backupkit. */
    private static RetentionPolicy policy(String restic, ZoneId zone) {
        RetentionPolicy.Builder b = RetentionPolicy.builder().zone(zone);
        String[] a = restic.split(" ");
        for (int i = 0; i < a.length; i += 2) {
            String v = a[i + 1];
            int n = v.equals("unlimited") ? RetentionPolicy.UNLIMITED : v.matches("\\d+") ? Integer.parseInt(v) : 0;
            switch (a[i]) {
                case "--keep-last" -> b.keepLast(n);
                case "--keep-hourly" -> b.keepHourly(n);
                case "--keep-daily" -> b.keepDaily(n);
                case "--keep-weekly" -> b.keepWeekly(n);
                case "--keep-monthly" -> b.keepMonthly(n);
                case "--keep-yearly" -> b.keepYearly(n);
                case "--keep-within" -> b.keepWithin(v);
                case "--keep-tag" -> b.keepTag(v);
                default -> throw new IllegalArgumentException(a[i]);
            }
        }
        return b.build();
    }

    private static final Map<String, String> COUNTER_RULE = Map.of("last", "last snapshot", "hourly", "hourly snapshot", "daily",
            "daily snapshot", "weekly", "weekly snapshot", "monthly", "monthly snapshot", "yearly", "yearly snapshot");

    /** restic's reasons in backupkit's words: "has tags [keep=yes]" is "tagged keep=yes". */
    private static String reason(String restic) {
        Matcher m = Pattern.compile("has tags \\[(.*)]").matcher(restic);
        return m.matches() ? "tagged " + Arrays.stream(m.group(1).split(" ")).sorted().collect(Collectors.joining(",")) : restic;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("cases")
    void backupkitKeepsWhatResticKeeps_forTheSameReasons(ZoneId zone, String resticPolicy) throws Exception {
        List<SnapshotSummary> all = snapshots.get(zone);
        JsonNode groups = forgets.get(key(zone, resticPolicy)).get(10, TimeUnit.MINUTES);
        assertEquals(1, groups.size(), "one group (one host, one path): " + groups);
        JsonNode group = groups.get(0);

        // restic's decision: snapshot id -> reasons, in backupkit's words
        Map<String, TreeSet<String>> expected = new TreeMap<>();
        JsonNode lastCounters = null;
        for (JsonNode r : group.path("reasons")) {
            String id = r.get("snapshot").has("id") ? r.get("snapshot").get("id").asText() : idOf(all, r.get("snapshot"));
            TreeSet<String> why = new TreeSet<>();
            r.get("matches").forEach(x -> why.add(reason(x.asText())));
            expected.put(id, why);
            lastCounters = r.get("counters");
        }
        assertEquals(new TreeSet<>(expected.keySet()), ids(group.path("keep")), "restic's reasons cover what it keeps");
        boolean reportsOldest = expected.values().stream().flatMap(TreeSet::stream).anyMatch(x -> x.startsWith("oldest "));
        if (!atLeast(0, 16) && !reportsOldest && lastCounters != null) {
            // restic < 0.16 does not yet keep the oldest snapshot when a rule has counts left (documented since 0.16,
            // restic#3624); its counters say which rules had, and that oldest is then kept "oldest <rule>"
            SnapshotSummary oldest = all.stream().min(Comparator.comparing(SnapshotSummary::time)).orElseThrow();
            for (Map.Entry<String, String> c : COUNTER_RULE.entrySet()) {
                int left = lastCounters.path(c.getKey()).asInt(0);
                TreeSet<String> why = expected.getOrDefault(oldest.id(), new TreeSet<>());
                if (left > 0 && !why.contains(c.getValue())) {
                    why.add("oldest " + c.getValue());
                    expected.put(oldest.id(), why);
                }
            }
        }

        RetentionPlan plan = policy(resticPolicy, zone).apply(all, Instant.now());
        Map<String, TreeSet<String>> actual = new TreeMap<>();
        plan.groups().forEach(g -> g.keep().forEach(k -> actual.put(k.snapshot().id(), new TreeSet<>(k.reasons()))));
        if (!expected.equals(actual)) {
            StringBuilder sb = new StringBuilder("backupkit and restic " + version[0] + "." + version[1] + " disagree on `forget "
                    + resticPolicy + "` in " + zone + " (K = kept by restic, k = kept by backupkit):\n");
            all.stream().sorted(Comparator.comparing(SnapshotSummary::time).reversed()).forEach(s -> sb.append(String.format(
                    "  %s %s %s %-10s restic %s backupkit %s%n", expected.containsKey(s.id()) ? "K" : ".",
                    actual.containsKey(s.id()) ? "k" : ".", s.time().atZone(zone).toOffsetDateTime(), s.tags().isEmpty() ? "" : s.tags(),
                    expected.getOrDefault(s.id(), new TreeSet<>()), actual.getOrDefault(s.id(), new TreeSet<>()))));
            throw new AssertionError(sb.toString());
        }
        assertEquals(all.size(), plan.toKeep().size() + plan.toRemove().size());
    }

    private static TreeSet<String> ids(JsonNode list) {
        TreeSet<String> out = new TreeSet<>();
        list.forEach(s -> out.add(s.get("id").asText()));
        return out;
    }

    /** restic's reasons omit the snapshot id: the times are unique here, so the time names it. */
    private static String idOf(List<SnapshotSummary> all, JsonNode snapshot) {
        Instant t = OffsetDateTime.parse(snapshot.get("time").asText()).toInstant();
        return all.stream().filter(s -> s.time().equals(t)).map(SnapshotSummary::id).findFirst()
                .orElseThrow(() -> new AssertionError("restic kept a snapshot at " + t + " that it never listed"));
    }
}
