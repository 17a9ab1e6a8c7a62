package io.backupkit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestoreResult;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.postgres.testing.PostgresServer;
import io.backupkit.spi.DatabaseEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The five-minute tour: a throwaway PostgreSQL, a sample database, two backups (the second one
 * deduplicated), a restore into a new database, a comprehensive verification and a results table.
 */
@Command(name = "demo", description = "Start a throwaway PostgreSQL from local binaries, back a sample database up twice "
        + "(showing dedup), restore it into a new database, verify comprehensively and print the results.",
        footer = {"", "The repository is ./backupkit-demo (replaced on every run), encrypted with the demo password "
                + "'" + DemoCommand.DEMO_PASSWORD + "'.",
                "Explore it afterwards: BACKUPKIT_PASSWORD=" + DemoCommand.DEMO_PASSWORD + " examples/target/backupkit list --repo backupkit-demo"})
final class DemoCommand extends CliCommand {
    static final String DEMO_PASSWORD = "backupkit-demo";
    private static final String DB = "shop";
    private static final String RESTORED = "shop_restored";
    private static final List<String> TABLES = List.of("public.customers", "public.products", "public.orders", "public.order_items");

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "backupkit-demo",
            description = "Repository directory (default: ./${DEFAULT-VALUE}); a previous demo repository there is replaced.")
    Path dir;

    @Option(names = "--orders", paramLabel = "N", defaultValue = "200000",
            description = "Orders in the sample database (default: ${DEFAULT-VALUE}; each has about 3 items).")
    int orders;

    DemoCommand(Terminal terminal) {
        super(terminal);
    }

    private void say(String format, Object... args) {
        if (!json()) {
            out().printf(format + "%n", args);
            out().flush();
        }
    }

    @Override
    int run() {
        if (orders < 1 || orders > 20_000_000) {
            throw usage("--orders must be between 1 and 20000000, was " + orders);
        }
        prepareDirectory(dir);
        say("backupkit demo");
        say("  starting a throwaway PostgreSQL server from local binaries ...");
        PostgresServer pg = startServer();
        Runnable report;
        try {
            report = tour(pg);
        } finally {
            pg.close();
            say("  PostgreSQL server stopped and its files removed");
        }
        report.run();
        return demoPassed ? ExitCodes.OK : ExitCodes.INTEGRITY;
    }

    private boolean demoPassed;

    private PostgresServer startServer() {
        try {
            return EphemeralPostgres.builder().start();
        } catch (IllegalStateException | UncheckedIOException e) {
            throw new ConfigurationException("the demo starts a throwaway PostgreSQL server from local binaries and could "
                    + "not: " + e.getMessage(), e);
        }
    }

    /** Runs the tour and returns what prints its results, once the server is gone. */
    private Runnable tour(PostgresServer pg) {
        say("  PostgreSQL %d running on %s:%d", pg.majorVersion(), pg.host(), pg.port());
        long t0 = System.nanoTime();
        pg.createDatabase(DB);
        pg.execute(DB, sampleSchemaAndData(orders));
        long rows = 0;
        for (String t : TABLES) {
            rows += count(pg, DB, t);
        }
        String dbSize = pg.queryForString(DB, "SELECT pg_database_size(current_database())");
        say("  sample database '%s': %d tables, %,d rows, %s on disk (filled in %s)", DB, TABLES.size(), rows,
                Format.bytes(Long.parseLong(dbSize)), Format.millis((System.nanoTime() - t0) / 1_000_000));

        DatabaseEngine engine = Engines.forUrl(pg.uri(DB));
        Map<String, String> connection = new LinkedHashMap<>();
        connection.put("user", pg.user());
        connection.put("password", pg.password());
        pg.binDirectory().ifPresent(bin -> connection.put("toolDirectory", bin.toString()));

        ObjectNode doc = Json.object();
        ArrayNode steps = doc.putArray("steps");
        TextTable results = new TextTable("STEP", "SNAPSHOT", ">READ", ">STORED", ">RATIO", ">TIME");

        try (Repository repo = Repository.builder().location(dir.toString()).password(DEMO_PASSWORD.toCharArray()).create()) {
            say("  repository %s created, encrypted with the demo password '%s'", dir, DEMO_PASSWORD);
            say("");

            BackupResult first = backup(repo, engine, pg, connection, "backup #1");
            results.row("backup #1 (full)", first.snapshot().shortId(), Format.bytes(first.bytesRead()),
                    Format.bytes(first.bytesStored()), Format.ratio(first.dedupRatio()), Format.duration(first.duration()));
            steps.add(step("backup", first));

            // a day in the life of a shop: some refunds, new orders, a few customers changing their e-mail
            int changed = Math.max(1, orders / 1000);
            int from = orders / 2;
            pg.execute(DB, "UPDATE orders SET status = 'refunded', note = 'refund requested by customer' WHERE id BETWEEN "
                    + from + " AND " + (from + changed - 1) + ";"
                    + "INSERT INTO orders (customer_id, status, total, note, created_at) "
                    + "SELECT 1 + (g % 10000), 'new', 42.00, 'demo insert', now() FROM generate_series(1, 100) g;"
                    + "UPDATE customers SET email = 'changed-' || id || '@example.org' WHERE id <= 10;");
            say("  changed %,d orders, added 100 orders, updated 10 customers", changed);

            BackupResult second = backup(repo, engine, pg, connection, "backup #2");
            results.row("backup #2 (" + (changed + 110) + " rows changed)", second.snapshot().shortId(), Format.bytes(second.bytesRead()),
                    Format.bytes(second.bytesStored()), Format.ratio(second.dedupRatio()), Format.duration(second.duration()));
            steps.add(step("backup", second));

            Map<String, String> restoreOptions = new LinkedHashMap<>(connection);
            try (ProgressRenderer progress = progress("restore")) {
                progress.expectedBytes(second.bytesRead());
                RestoreResult restored = RestoreManager.builder().repository(repo).snapshot(second.snapshotId())
                        .target(engine.target(pg.uri(RESTORED), restoreOptions)).listener(progress).build().restore();
                progress.succeeded();
                results.row("restore into " + RESTORED, second.snapshot().shortId(), Format.bytes(restored.bytesRestored()),
                        "", "", Format.duration(restored.duration()));
                ObjectNode s = Json.restore(restored);
                s.put("step", "restore");
                steps.add(s);
            }

            say("  verifying snapshot %s comprehensively (restore into a scratch database and compare) ...", second.snapshot().shortId());
            VerificationReport report = Verifier.builder().repository(repo).snapshot(second.snapshotId())
                    .level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(engine.target(pg.uri("postgres"), connection)).build().verify();
            long passed = report.checks().stream().filter(c -> c.status() == VerificationCheck.Status.PASSED).count();
            long ran = report.checks().stream().filter(c -> c.status() != VerificationCheck.Status.SKIPPED).count();
            results.row("verify (comprehensive)", second.snapshot().shortId(), "", passed + "/" + ran + " checks",
                    report.passed() ? "passed" : "FAILED", Format.duration(report.duration()));
            ObjectNode v = Json.verification(report);
            v.put("step", "verify");
            steps.add(v);
            for (VerificationCheck c : report.failures()) {
                say("  FAILED %s: %s", c.name(), c.message());
            }

            TextTable compare = new TextTable("TABLE", ">ROWS IN " + DB, ">ROWS IN " + RESTORED, "CONTENT");
            ArrayNode tables = doc.putArray("tables");
            boolean identical = true;
            for (String t : TABLES) {
                long a = count(pg, DB, t);
                long b = count(pg, RESTORED, t);
                boolean same = digest(pg, DB, t).equals(digest(pg, RESTORED, t));
                identical &= same && a == b;
                compare.row(t, String.format(Locale.ROOT, "%,d", a), String.format(Locale.ROOT, "%,d", b), same ? "identical" : "DIFFERENT");
                ObjectNode tn = tables.addObject();
                tn.put("table", t);
                tn.put("rowsSource", a);
                tn.put("rowsRestored", b);
                tn.put("identical", same);
            }
            boolean ok = report.passed() && identical;
            demoPassed = ok;
            double share = first.bytesStored() == 0 ? 0 : (double) second.bytesStored() / first.bytesStored();
            doc.put("repository", repo.location());
            doc.put("encrypted", repo.encrypted());
            doc.put("demoPassword", DEMO_PASSWORD);
            doc.put("dedupSecondBackup", second.bytesStored() == 0 ? null : Math.round(second.dedupRatio() * 10) / 10.0);
            doc.put("passed", ok);
            boolean success = ok;
            return () -> {
                if (json()) {
                    printJson(doc);
                    return;
                }
                out().println();
                out().println("RESULTS");
                results.print(out(), "  ");
                if (share < 0.5) {
                    out().printf("  the second backup stored %s, %s of what the first stored: unchanged chunks were deduplicated%n",
                            Format.bytes(second.bytesStored()), Format.percent(share));
                } else {
                    out().printf("  the second backup stored %s of what the first stored: with chunks of about 1 MiB this sample "
                            + "is too small for deduplication to show (try --orders 200000)%n", Format.percent(share));
                }
                out().println();
                compare.print(out(), "  ");
                out().println();
                out().printf("%s%n", success ? "demo passed: the restored database is identical to the source"
                        : "demo FAILED: see the checks above");
                out().printf("explore the repository: BACKUPKIT_PASSWORD=%s examples/target/backupkit list --repo %s%n",
                        DEMO_PASSWORD, dir);
                out().flush();
            };
        }
    }

    private BackupResult backup(Repository repo, DatabaseEngine engine, PostgresServer pg, Map<String, String> connection, String label) {
        BackupResult r;
        try (ProgressRenderer progress = progress(label)) {
            r = BackupManager.builder().repository(repo).source(engine.source(pg.uri(DB), connection))
                    .tag("demo", label.replace(" ", "").replace("#", "")).listener(progress).build().backup();
            progress.succeeded();
        }
        say("  %s: snapshot %s, %s read, %s stored new (%s), %s", label, r.snapshot().shortId(), Format.bytes(r.bytesRead()),
                Format.bytes(r.bytesStored()), Format.ratio(r.dedupRatio()), Format.duration(r.duration()));
        return r;
    }

    private static ObjectNode step(String kind, BackupResult r) {
        ObjectNode n = Json.backup(r);
        n.put("step", kind);
        return n;
    }

    private static long count(PostgresServer pg, String db, String table) {
        return Long.parseLong(pg.queryForString(db, "SELECT count(*) FROM " + table));
    }

    /** An order-independent digest of a table's content, to compare source and restore row for row. */
    private static String digest(PostgresServer pg, String db, String table) {
        return pg.queryForString(db, "SELECT md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM " + table + " t");
    }

    static String sampleSchemaAndData(int orders) {
        return """
                CREATE TABLE customers (
                    id         bigserial PRIMARY KEY,
                    name       text NOT NULL,
                    email      text NOT NULL UNIQUE,
                    country    char(2) NOT NULL,
                    created_at timestamptz NOT NULL
                );
                CREATE TABLE products (
                    id    serial PRIMARY KEY,
                    sku   text NOT NULL UNIQUE,
                    title text NOT NULL,
                    price numeric(10,2) NOT NULL CHECK (price >= 0)
                );
                CREATE TABLE orders (
                    id          bigserial PRIMARY KEY,
                    customer_id bigint NOT NULL REFERENCES customers(id),
                    status      text NOT NULL,
                    total       numeric(12,2) NOT NULL,
                    note        text,
                    created_at  timestamptz NOT NULL
                );
                CREATE TABLE order_items (
                    order_id   bigint NOT NULL REFERENCES orders(id),
                    line       int NOT NULL,
                    product_id int NOT NULL REFERENCES products(id),
                    quantity   int NOT NULL,
                    PRIMARY KEY (order_id, line)
                );
                CREATE INDEX orders_customer ON orders (customer_id);
                CREATE VIEW order_totals AS
                    SELECT customer_id, count(*) AS orders, sum(total) AS total FROM orders GROUP BY customer_id;
                INSERT INTO customers (name, email, country, created_at)
                    SELECT 'Customer ' || g, 'customer' || g || '@example.org',
                           (ARRAY['DE','FR','NL','US','JP','BR'])[1 + g % 6], timestamptz '2024-01-01' + g * interval '7 minutes'
                    FROM generate_series(1, 10000) g;
                INSERT INTO products (sku, title, price)
                    SELECT 'SKU-' || lpad(g::text, 5, '0'), 'Product number ' || g || ' of the demo shop', (g % 500) + 0.99
                    FROM generate_series(1, 1000) g;
                INSERT INTO orders (customer_id, status, total, note, created_at)
                    SELECT 1 + (g * 7919) % 10000, (ARRAY['new','paid','shipped','delivered'])[1 + g % 4],
                           ((g * 31) % 100000) / 100.0, CASE WHEN g % 10 = 0 THEN 'gift wrap, leave at the door' END,
                           timestamptz '2024-01-01' + g * interval '1 minute'
                    FROM generate_series(1, {ORDERS}) g;
                INSERT INTO order_items (order_id, line, product_id, quantity)
                    SELECT o.id, l, 1 + (o.id * 13 + l * 101) % 1000, 1 + (o.id + l) % 5
                    FROM orders o, generate_series(1, 1 + (o.id % 5)::int) l;
                ANALYZE;
                """.replace("{ORDERS}", Integer.toString(orders));
    }

    /** The demo replaces its own previous repository, never a directory with anything else in it. */
    static void prepareDirectory(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new ConfigurationException(dir + " exists and is not a directory; remove it or give --dir");
        }
        try (Stream<Path> entries = Files.list(dir)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).toList();
            if (names.isEmpty()) {
                return;
            }
            boolean isRepository = names.contains("config") && names.contains("keys")
                    && names.stream().allMatch(n -> List.of("config", "keys", "data", "index", "snapshots", "locks", "wal").contains(n)
                    || n.startsWith(".tmp-"));
            if (!isRepository) {
                throw new ConfigurationException(dir + " exists and is not a backupkit repository (" + names.size()
                        + " entries); the demo will not delete it: remove it or give --dir");
            }
        } catch (IOException e) {
            throw new ConfigurationException("cannot read " + dir + ": " + e.getMessage());
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new ConfigurationException("cannot remove the previous demo repository " + dir + ": " + e.getMessage());
        }
    }
}
